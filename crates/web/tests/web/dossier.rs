//! Integration tests of the dossier pages.

use aanwezig_domain::case::Actor;
use aanwezig_domain::{CaseStep, Role, RuleId, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::{Client, StatusCode};

use crate::common::{
    case_of, open_case, spawn_app, start_intervention, store_melding, ymd, TestApp,
};

/// POSTs and asserts the change was saved (303 back to the dossier), and
/// that the dossier confirms it in the form's section.
async fn saved(app: &TestApp, c: &Client, path: &str, fields: &[(&str, &str)]) {
    let location = app.post_ok(c, path, fields).await;
    assert!(location.contains("/dossier"), "{location}");
    assert!(location.contains("?opgeslagen="), "{location}");
    let (status, html) = app.get(c, location.split('#').next().unwrap()).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        html.contains("<p class=\"success\" role=\"status\">"),
        "{location}: no confirmation\n{html}"
    );
}

fn dossier(id: &str) -> String {
    format!("/leerlingen/{id}/dossier")
}

/// A student (of the mentor's class or not) with an open signal of a rule
/// that gives a step, and that signal's value in the opening form.
fn student_with_step_signal(app: &TestApp) -> (String, RuleId, String) {
    let live = app.state.read().unwrap();
    let cal = live.cal.as_ref().unwrap();
    let d = live.through.unwrap();
    for (i, s) in live.school.students().iter().enumerate() {
        if let Some(sig) = live.evaluations[i]
            .open_on(d)
            .find(|s| CaseStep::for_rule(s.rule).is_some())
        {
            let value = format!(
                "signaal:{}:{}",
                sig.rule,
                cal.date(sig.fired_on).format("%Y-%m-%d")
            );
            return (s.id.to_string(), sig.rule, value);
        }
    }
    panic!("the demo school has a student with an open step signal");
}

#[tokio::test]
async fn open_from_a_signal_starts_on_the_signals_step() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (id, rule, value) = student_with_step_signal(&app);
    let (status, html) = app.get(&c, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("heeft nog geen dossier"), "{html}");
    assert!(html.contains(&value), "the open signal is offered: {html}");

    saved(
        &app,
        &c,
        &format!("{}/openen", dossier(&id)),
        &[("bron", &value), ("stap", "3a")],
    )
    .await;
    let case = app
        .store
        .case(&StudentId::parse(&id).unwrap())
        .await
        .unwrap()
        .expect("a case");
    let step = CaseStep::for_rule(rule).unwrap();
    assert_eq!(case.step, step, "the signal's step, not the form's 3a");
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(
        html.contains(rule.title_nl()),
        "the reason names the signal"
    );
    assert!(html.contains(step.label_nl()));

    // A second case for the same student is refused, with the form kept.
    let (status, _, html) = app
        .submit(&c, &format!("{}/openen", dossier(&id)), &[("bron", &value)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("al een open dossier"), "{html}");
}

#[tokio::test]
async fn open_by_hand_needs_a_reason_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let id = app.own_student.clone();
    let path = format!("{}/openen", dossier(&id));
    let (status, _, html) = app
        .submit(
            &c,
            &path,
            &[("bron", "zorgen"), ("stap", "3b"), ("reden", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Beschrijf de zorgen"), "{html}");
    assert!(app
        .store
        .case(&StudentId::parse(&id).unwrap())
        .await
        .unwrap()
        .is_none());

    saved(
        &app,
        &c,
        &path,
        &[
            ("bron", "zorgen"),
            ("stap", "3b"),
            ("reden", "stil in de klas en vaak moe"),
        ],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("stil in de klas en vaak moe"), "{html}");
    assert!(html.contains(CaseStep::S3b.label_nl()));
    assert!(
        html.contains("Test mentor"),
        "the mentor opened it and leads it"
    );
}

#[tokio::test]
async fn step_changes_show_who_when_why_and_step_5a_needs_the_cooperation_decision() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3b", &[]).await;
    let step = format!("{}/stap", dossier(&id));

    saved(
        &app,
        &c,
        &step,
        &[
            ("naar", "4b"),
            ("datum", "2025-11-14"),
            ("waarom", "zestien uur onbekend verzuim"),
        ],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("zestien uur onbekend verzuim"), "why");
    assert!(html.contains("vrijdag 14 november 2025"), "when: {html}");
    assert!(
        html.contains("Test coordinator (verzuimcoördinator)"),
        "who"
    );
    assert!(html.contains(CaseStep::S4b.label_nl()));

    // 5a without a cooperation decision: the domain's message, 422, typed reason kept.
    let (status, _, html) = app
        .submit(&c, &step, &[("naar", "5a"), ("waarom", "hulp loopt")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Leg eerst vast of leerling en ouders meewerken"),
        "{html}"
    );
    assert!(
        html.contains(">hulp loopt</textarea>"),
        "the typed reason stays"
    );

    // Before the latest change: refused, with the dates in Dutch.
    let (status, _, html) = app
        .submit(
            &c,
            &step,
            &[("naar", "3b"), ("datum", "2025-11-10"), ("waarom", "terug")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("De datum maandag 10 november 2025 ligt vóór vrijdag 14 november 2025"),
        "{html}"
    );

    saved(
        &app,
        &c,
        &format!("{}/besluit", dossier(&id)),
        &[
            ("soort", "meewerken_ja"),
            ("partij", "ouders"),
            ("partij", "aoj"),
        ],
    )
    .await;
    saved(&app, &c, &step, &[("naar", "5a"), ("waarom", "hulp loopt")]).await;
    let case = case_of(&app, &id).await;
    assert_eq!(case.step, CaseStep::S5a);
    assert_eq!(case.history.len(), 2);
    assert_eq!(case.decisions[0].parties.len(), 2);
}

#[tokio::test]
async fn a_checklist_item_is_done_with_date_and_note() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3a", &[]).await;
    saved(
        &app,
        &c,
        &format!("{}/checklist", dossier(&id)),
        &[
            ("stap", "3a"),
            ("sleutel", "gesprek_leerling_ouders"),
            ("status", "gedaan"),
            ("datum", "2025-11-13"),
            ("notitie", "met moeder op school"),
        ],
    )
    .await;
    // A date after today is refused at that item, with the note kept.
    let (status, _, html) = app
        .submit(
            &c,
            &format!("{}/checklist", dossier(&id)),
            &[
                ("stap", "3a"),
                ("sleutel", "gesprek_leerling_ouders"),
                ("status", "gedaan"),
                ("datum", "2025-12-01"),
                ("notitie", "nog te plannen"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("ligt na vandaag"), "{html}");
    assert!(html.contains("value=\"nog te plannen\""), "the note stays");
    assert!(html.contains("value=\"2025-12-01\""), "the date stays");
    let case = case_of(&app, &id).await;
    let item = case
        .checklist
        .iter()
        .find(|i| i.key == "gesprek_leerling_ouders")
        .unwrap();
    assert!(!item.status.is_open());
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("met moeder op school"), "{html}");
    // The engine now knows the 3a conversation.
    let live = app.state.read().unwrap();
    let i = live.school.position(&case.student).unwrap();
    assert_eq!(
        live.school.context(i).conversations_3a,
        vec![chrono::NaiveDate::from_ymd_opt(2025, 11, 13).unwrap()]
    );
}

#[tokio::test]
async fn close_and_reopen() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3a", &[]).await;
    let (status, _, html) = app
        .submit(
            &c,
            &format!("{}/sluiten", dossier(&id)),
            &[("reden", "anders")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "'anders' needs a note"
    );
    assert!(html.contains("Licht de andere reden toe"), "{html}");

    saved(
        &app,
        &c,
        &format!("{}/sluiten", dossier(&id)),
        &[("reden", "aanwezigheid_hersteld")],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("Gesloten op"), "{html}");
    assert!(html.contains("aanwezigheid hersteld"));
    assert!(html.contains("Dossier heropenen"));
    let (_, list) = app.get(&c, "/dossiers").await;
    assert!(
        !list.contains(&format!("/leerlingen/{id}/dossier")),
        "closed: not in the open list"
    );
    let (_, list) = app.get(&c, "/dossiers?status=gesloten").await;
    assert!(
        list.contains(&format!("/leerlingen/{id}/dossier")),
        "in the closed list"
    );

    saved(
        &app,
        &c,
        &format!("{}/heropenen", dossier(&id)),
        &[("waarom", "weer veel afwezig")],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("Heropend op"), "{html}");
    assert!(html.contains("weer veel afwezig"));
    let (_, list) = app.get(&c, "/dossiers").await;
    assert!(
        list.contains(&format!("/leerlingen/{id}/dossier")),
        "open again"
    );
}

#[tokio::test]
async fn a_partner_brought_in_sees_the_student_and_the_case_others_do_not() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    open_case(&app, &id, "4a", &[]).await;
    let arts = app.login("jeugdarts").await;
    let lpa = app.login("leerplicht").await;
    for (who, client) in [("jeugdarts", &arts), ("leerplicht", &lpa)] {
        let (status, _) = app.get(client, &dossier(&id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who} before");
    }

    let (_, html) = app.get(&c, &dossier(&id)).await;
    let form_start = html
        .find(&format!("action=\"/leerlingen/{id}/dossier/partners\""))
        .expect("the partners form");
    let form = &html[form_start..form_start + html[form_start..].find("</form>").unwrap()];
    assert!(
        form.contains("value=\"jeugdarts\""),
        "the jeugdarts is offered"
    );
    assert!(
        !form.contains("value=\"mentor\""),
        "school roles are not offered"
    );
    assert!(
        html.contains("Een jeugdarts kunt u pas betrekken"),
        "the partners form says the referral with consent comes first"
    );
    // Without the referral the parents consented to: refused at the form.
    let (status, _, html) = app
        .submit(
            &c,
            &format!("{}/partners", dossier(&id)),
            &[("gebruiker", "jeugdarts")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("De jeugdarts kan pas meekijken als de ouders toestemming gaven"),
        "{html}"
    );
    saved(
        &app,
        &c,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "jeugdarts_ja"), ("partij", "ouders")],
    )
    .await;
    saved(
        &app,
        &c,
        &format!("{}/partners", dossier(&id)),
        &[("gebruiker", "jeugdarts")],
    )
    .await;

    let (status, html) = app.get(&arts, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(CaseStep::S4a.label_nl()));
    for form in [
        "stap",
        "besluit",
        "checklist",
        "interventie",
        "partners",
        "sluiten",
    ] {
        assert!(
            !html.contains(&format!("/dossier/{form}\"")),
            "read only: no {form} form"
        );
    }
    let (status, _) = app.get(&arts, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK, "the student page too");
    let (_, list) = app.get(&arts, "/dossiers").await;
    assert!(list.contains(&dossier(&id)));
    let (status, _) = app.get(&lpa, &dossier(&id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a partner not brought in");
    let (_, list) = app.get(&lpa, "/dossiers").await;
    assert!(!list.contains(&dossier(&id)));

    // A partner cannot change the case.
    let (status, _, _) = app
        .submit(
            &arts,
            &format!("{}/stap", dossier(&id)),
            &[("naar", "4b"), ("waarom", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Released: the access ends.
    saved(
        &app,
        &c,
        &format!("{}/partners/verwijderen", dossier(&id)),
        &[("gebruiker", "jeugdarts")],
    )
    .await;
    let (status, _) = app.get(&arts, &dossier(&id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_meldcode_is_seen_only_by_the_ondersteuningscoordinator() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "4b", &["jeugdarts"]).await;
    let coord = app.login("coordinator").await;
    let zorg = app.login("zorg").await;
    let (_, html) = app.get(&coord, &dossier(&id)).await;
    assert!(
        !html.contains("value=\"meldcode\""),
        "not offered to the verzuimcoördinator"
    );
    let (status, _, _) = app
        .submit(
            &coord,
            &format!("{}/besluit", dossier(&id)),
            &[("soort", "meldcode")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nor accepted from them"
    );

    saved(
        &app,
        &zorg,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "vowij_nee")],
    )
    .await;
    let (_, html) = app.get(&zorg, &dossier(&id)).await;
    assert!(
        html.contains("geen toestemming voor VO WIJ"),
        "points zorg to the meldcode: {html}"
    );
    saved(
        &app,
        &zorg,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "meldcode"), ("notitie", "veiligheid besproken")],
    )
    .await;
    let (_, html) = app.get(&zorg, &dossier(&id)).await;
    assert!(html.contains("meldcode huiselijk geweld"), "zorg sees it");
    assert!(html.contains("veiligheid besproken"));
    for user in ["coordinator", "mentor", "jeugdarts"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, &dossier(&id)).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert!(
            !html.contains("meldcode huiselijk geweld"),
            "{user} does not see the meldcode"
        );
        assert!(!html.contains("veiligheid besproken"), "{user}");
        assert!(
            html.contains("inzet VO WIJ"),
            "{user} sees the other decision"
        );
    }
    // The audit log (read by the beheerder) does not name it either.
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: StudentId::parse(&id).ok(),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(log.iter().all(|e| !e.detail.contains("meldcode")));
}

#[tokio::test]
async fn confidential_notes_are_for_the_jeugdarts_only() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "4a", &["jeugdarts", "keten"]).await;
    let arts = app.login("jeugdarts").await;
    let (_, html) = app.get(&arts, &dossier(&id)).await;
    assert!(html.contains("Vertrouwelijke notities"));
    let (status, _, html) = app
        .submit(
            &arts,
            &format!("{}/notitie", dossier(&id)),
            &[("tekst", " ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("De notitie is leeg"));
    saved(
        &app,
        &arts,
        &format!("{}/notitie", dossier(&id)),
        &[("tekst", "afspraak spreekuur gemaakt")],
    )
    .await;
    let (_, html) = app.get(&arts, &dossier(&id)).await;
    assert!(html.contains("afspraak spreekuur gemaakt"));
    for user in ["coordinator", "zorg", "mentor", "keten"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, &dossier(&id)).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert!(
            !html.contains("afspraak spreekuur gemaakt"),
            "{user} never sees it"
        );
        assert!(!html.contains("Vertrouwelijke notities"), "{user}");
        let (status, _, _) = app
            .submit(&c, &format!("{}/notitie", dossier(&id)), &[("tekst", "x")])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user} writes none");
    }
}

#[tokio::test]
async fn the_evaluation_page_compares_attendance_before_and_since() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3a", &[]).await;
    // An intervention that started earlier, stored as the domain records it.
    start_intervention(
        &app,
        &id,
        "elke ochtend melden bij de mentor",
        ymd(2025, 10, 27),
    )
    .await;

    let (status, html) = app
        .get(&c, &format!("{}/interventie/1", dossier(&id)))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("elke ochtend melden bij de mentor"));
    // Both figures, as percentages, with their periods.
    let before = html
        .find("vóór de start: <span class=\"figure\">")
        .expect("before");
    let since = html
        .find("sinds de start: <span class=\"figure\">")
        .expect("since");
    for at in [before, since] {
        let figure = &html[at..at + 80];
        assert!(figure.contains(" %"), "a percentage: {figure}");
    }
    assert!(
        html.contains("27 oktober 2025"),
        "the start of the period since: {html}"
    );
    assert!(html.contains("Evaluatie vastleggen"));

    let (status, _, html) = app
        .submit(
            &c,
            &format!("{}/interventie/1/evaluatie", dossier(&id)),
            &[("notitie", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Schrijf op wat de evaluatie opleverde"));
    let location = app
        .post_ok(
            &c,
            &format!("{}/interventie/1/evaluatie", dossier(&id)),
            &[("notitie", "gaat beter")],
        )
        .await;
    assert!(
        location.ends_with("/interventie/1?opgeslagen=evaluatie#evaluaties"),
        "{location}"
    );
    let (_, html) = app.get(&c, location.split('#').next().unwrap()).await;
    assert!(html.contains("gaat beter"));
    assert!(
        html.contains("<p class=\"success\" role=\"status\">De evaluatie is opgeslagen.</p>"),
        "{html}"
    );

    let (status, _) = app
        .get(&c, &format!("{}/interventie/2", dossier(&id)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The details of the coordinator's audited changes of `sid`.
async fn changes(app: &TestApp, sid: &StudentId) -> Vec<String> {
    app.store
        .audit_log(&AuditFilter {
            student: Some(sid.clone()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Change && e.username == "coordinator")
        .map(|e| e.detail)
        .collect()
}

#[tokio::test]
async fn every_change_writes_an_audit_entry() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    let sid = StudentId::parse(&id).unwrap();
    let base = dossier(&id);
    let steps: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("{base}/openen"),
            vec![("bron", "zorgen"), ("stap", "3b"), ("reden", "zorgen")],
        ),
        (
            format!("{base}/stap"),
            vec![("naar", "4b"), ("waarom", "meer verzuim")],
        ),
        (
            format!("{base}/checklist"),
            vec![
                ("stap", "3b"),
                ("sleutel", "gesprek_leerling_ouders"),
                ("status", "gedaan"),
            ],
        ),
        (
            format!("{base}/partners"),
            vec![("gebruiker", "leerplicht")],
        ),
        (
            format!("{base}/partners/verwijderen"),
            vec![("gebruiker", "leerplicht")],
        ),
        (
            format!("{base}/besluit"),
            vec![("soort", "preventief_spreekuur")],
        ),
        (
            format!("{base}/interventie"),
            vec![
                ("soort", "thuiswerkplan"),
                ("omschrijving", "twee keer per week op school"),
            ],
        ),
        (
            format!("{base}/interventie/1/evaluatie"),
            vec![("notitie", "loopt")],
        ),
        (format!("{base}/interventie/1/beeindigen"), vec![]),
        (format!("{base}/sluiten"), vec![("reden", "uitgeschreven")]),
        (
            format!("{base}/heropenen"),
            vec![("waarom", "terug op school")],
        ),
    ];
    for (k, (path, fields)) in steps.iter().enumerate() {
        app.post_ok(&c, path, fields).await;
        assert_eq!(
            changes(&app, &sid).await.len(),
            k + 1,
            "an audit entry for {path}"
        );
    }
    let log = changes(&app, &sid).await;
    assert!(log.iter().any(|d| d == "dossier: stap 3b → 4b"), "{log:?}");
    assert_eq!(
        app.store.case_versions(&sid).await.unwrap().len(),
        steps.len()
    );
}

#[tokio::test]
async fn a_mentor_of_another_class_gets_404_like_a_missing_student() {
    let app = spawn_app().await;
    let id = app.other_student.clone();
    open_case(&app, &id, "3a", &[]).await;
    let m = app.login("mentor").await;
    for path in [dossier(&id), format!("{}/interventie/1", dossier(&id))] {
        let (s1, b1) = app.get(&m, &path).await;
        let (s2, b2) = app.get(&m, &path.replace(&id, "999999")).await;
        assert_eq!(s1, StatusCode::NOT_FOUND, "{path}");
        assert_eq!((s1, b1), (s2, b2));
    }
    let (status, _, _) = app
        .submit(
            &m,
            &format!("{}/stap", dossier(&id)),
            &[("naar", "3b"), ("waarom", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get(&m, "/dossiers").await;
    assert!(!list.contains(&dossier(&id)), "not in the mentor's list");
    let beheer = app.login("beheer").await;
    let (status, _) = app.get(&beheer, "/dossiers").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_list_shows_step_owner_partners_and_the_next_task() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "4a", &["keten"]).await;
    let c = app.login("coordinator").await;
    saved(
        &app,
        &c,
        &format!("{}/interventie", dossier(&id)),
        &[("soort", "afspraken"), ("omschrijving", "op tijd komen")],
    )
    .await;
    let (status, html) = app.get(&c, "/dossiers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&dossier(&id)));
    assert!(html.contains(CaseStep::S4a.label_nl()));
    assert!(html.contains("Test keten (ketenpartner)"), "{html}");
    assert!(
        html.contains("Wekelijks nagaan of de afspraken zijn nagekomen"),
        "the next task: {html}"
    );
    assert!(html.contains("Test coordinator"));
}

#[tokio::test]
async fn the_student_page_links_to_the_dossier_and_its_signals_to_opening_one() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (id, _, _) = student_with_step_signal(&app);
    let (_, html) = app.get(&c, &format!("/leerlingen/{id}")).await;
    assert!(html.contains("nog geen dossier"), "{html}");
    assert!(html.contains(&format!("{}#openen\">Dossier openen", dossier(&id))));
    assert!(!html.contains(">In dossier<"));

    saved(
        &app,
        &c,
        &format!("{}/openen", dossier(&id)),
        &[
            ("bron", "zorgen"),
            ("stap", "4b"),
            ("reden", "veel afwezig"),
        ],
    )
    .await;
    let (_, html) = app.get(&c, &format!("/leerlingen/{id}")).await;
    assert!(
        html.contains("open, stap <span class=\"badge step-4b\">4b</span>"),
        "{html}"
    );
    assert!(html.contains(">In dossier<"));
    assert!(!html.contains("Dossier openen"));
}

#[tokio::test]
async fn after_a_closed_case_a_new_one_can_be_opened_but_not_on_the_same_day() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    let sid = StudentId::parse(&id).unwrap();
    let path = format!("{}/openen", dossier(&id));
    let new_case = [
        ("bron", "zorgen"),
        ("stap", "3a"),
        ("reden", "opnieuw zorgen"),
    ];

    // Closed today, opened today: reopening is the way.
    open_case(&app, &id, "3a", &[]).await;
    saved(
        &app,
        &c,
        &format!("{}/sluiten", dossier(&id)),
        &[("reden", "aanwezigheid_hersteld")],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("Een nieuw dossier openen"), "{html}");
    let (status, _, html) = app.submit(&c, &path, &new_case).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Heropen dat dossier"), "{html}");
    assert_eq!(app.store.student_cases(&sid).await.unwrap().len(), 1);

    // A case opened and closed earlier: a new one starts beside it.
    let by = Actor::new("coordinator", Role::Verzuimcoordinator);
    let earlier = chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
    let other = app.other_student.clone();
    let osid = StudentId::parse(&other).unwrap();
    let mut old = aanwezig_domain::Case::open(
        osid.clone(),
        earlier,
        by.clone(),
        aanwezig_domain::case::OpenReason::Zorgen {
            note: "toen".into(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    old.close(
        earlier,
        by,
        aanwezig_domain::case::ClosureReason::AanwezigheidHersteld,
        "",
    )
    .unwrap();
    app.store
        .save_case(&old, "coordinator", crate::common::now())
        .await
        .unwrap();
    saved(&app, &c, &format!("{}/openen", dossier(&other)), &new_case).await;
    let cases = app.store.student_cases(&osid).await.unwrap();
    assert_eq!(cases.len(), 2, "the old case is kept");
    assert!(!cases[0].is_open());
    assert!(cases[1].is_open());
    assert_eq!(cases[1].step, CaseStep::S3a);
}

#[tokio::test]
async fn a_partner_sees_a_reduced_student_page_without_lessons_or_sick_reports() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let monday = crate::common::ymd(2025, 11, 10);
    crate::common::rewrite(&app, &id, &[(monday, &[1, 2, 3], "Z")]).await;
    open_case(&app, &id, "3a", &["jeugdarts"]).await;

    let coord = app.login("coordinator").await;
    let (status, html) = app.get(&coord, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ziek gemeld"), "the school sees the grid");
    assert!(html.contains("/les?datum="), "and the correction links");
    assert!(html.contains("Gewijzigde lessen"));

    let arts = app.login("jeugdarts").await;
    let (status, html) = app.get(&arts, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Stap en aanwezigheid"),
        "step and rate: {html}"
    );
    assert!(html.contains("aanwezig dit schooljaar"));
    assert!(
        html.contains(&format!("href=\"{}\"", dossier(&id))),
        "a link to the dossier they are brought into"
    );
    for hidden in [
        "ziek gemeld",
        "afgemeld",
        "/les?datum=",
        "Registraties",
        "Gewijzigde lessen",
        "heatmap",
        "lessen achter dit signaal",
        "href=\"/leerlingen\"",
    ] {
        assert!(!html.contains(hidden), "the partner does not see {hidden}");
    }

    // Leerplicht with a sent melding sees the student, without a dossier
    // link while not brought in.
    let student = crate::common::student(&app, &id);
    store_melding(
        &app,
        &student,
        aanwezig_domain::MeldingStatus::Geregistreerd,
    )
    .await;
    let lpa = app.login("leerplicht").await;
    let (status, html) = app.get(&lpa, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("ziek gemeld"));
    assert!(!html.contains(&format!("href=\"{}\"", dossier(&id))));
    let (status, _) = app.get(&lpa, &dossier(&id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_coordinators_record_decisions_and_bring_in_partners() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3b", &[]).await;
    let m = app.login("mentor").await;
    let (status, html) = app.get(&m, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Verwijzingen en besluiten"), "read only");
    for form in ["besluit", "partners", "partners/verwijderen"] {
        assert!(
            !html.contains(&format!("/dossier/{form}\"")),
            "no {form} form for the mentor"
        );
    }
    assert!(html.contains("/dossier/stap\""), "the mentor moves steps");
    for (form, fields) in [
        ("besluit", vec![("soort", "preventief_spreekuur")]),
        ("partners", vec![("gebruiker", "leerplicht")]),
        ("partners/verwijderen", vec![("gebruiker", "leerplicht")]),
    ] {
        let (status, _, _) = app
            .submit(&m, &format!("{}/{form}", dossier(&id)), &fields)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form}");
    }
    let zorg = app.login("zorg").await;
    saved(
        &app,
        &zorg,
        &format!("{}/partners", dossier(&id)),
        &[("gebruiker", "leerplicht")],
    )
    .await;
}

#[tokio::test]
async fn every_decision_is_audited_with_the_same_words() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let sid = StudentId::parse(&id).unwrap();
    open_case(&app, &id, "3a", &[]).await;
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(html.contains("Jeugdarts voorgesteld, ouders geven geen toestemming"));
    for kind in ["jeugdarts_nee", "vowij_ja", "preventief_spreekuur"] {
        saved(
            &app,
            &c,
            &format!("{}/besluit", dossier(&id)),
            &[("soort", kind)],
        )
        .await;
    }
    let log = changes(&app, &sid).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log.iter()
            .all(|d| d == "dossier: verwijzing of besluit vastgelegd"),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_later_signal_is_noted_and_calls_since_opening_are_tasks() {
    let app = spawn_app().await;
    let s = crate::common::sixteen_hours(&app).await;
    let sid = StudentId::parse(&s).unwrap();
    let case = aanwezig_domain::Case::open(
        sid.clone(),
        crate::common::ymd(2025, 11, 3),
        Actor::new("coordinator", Role::Verzuimcoordinator),
        aanwezig_domain::case::OpenReason::Zorgen {
            note: "zorgen".into(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    app.store
        .save_case(&case, "coordinator", crate::common::now())
        .await
        .unwrap();
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &dossier(&s)).await;
    assert!(
        html.contains("Nieuw signaal: DUO-melding: 16 uur of meer in 4 lesweken"),
        "{html}"
    );
    assert!(html.contains("overweeg stap 4b"));
    assert!(
        !html.contains("Nieuw signaal: Ongeoorloofd"),
        "a signal of the case's own step is no news"
    );
    assert!(
        html.contains("Bellen: hele dag afwezig sinds maandag 10 november 2025"),
        "the call for Monday's whole-day absence: {html}"
    );
    // Shown, not saved.
    let stored = app.store.case(&sid).await.unwrap().unwrap();
    assert!(stored.signals.is_empty());

    // At step 4b the signal is no news.
    saved(
        &app,
        &c,
        &format!("{}/stap", dossier(&s)),
        &[("naar", "4b"), ("waarom", "16 uur")],
    )
    .await;
    let (_, html) = app.get(&c, &dossier(&s)).await;
    assert!(!html.contains("Nieuw signaal"));
}

#[tokio::test]
async fn partners_see_only_sent_meldingen_and_contacts_are_listed() {
    use aanwezig_domain::case::{ContactKind, ContactMoment, Party};
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let sid = StudentId::parse(&id).unwrap();
    open_case(&app, &id, "4b", &["leerplicht"]).await;
    let mut case = app.store.case(&sid).await.unwrap().unwrap();
    case.add_contact(ContactMoment {
        on: crate::common::ymd(2025, 11, 13),
        kind: ContactKind::Telefoon,
        minutes: None,
        participants: vec![Party::Ouders, Party::School],
        by: Actor::new("coordinator", Role::Verzuimcoordinator),
        guide: None,
        answers: Vec::new(),
        note: String::new(),
    })
    .unwrap();
    app.store
        .save_case(&case, "coordinator", crate::common::now())
        .await
        .unwrap();
    let student = crate::common::student(&app, &id);
    let mut ids = Vec::new();
    for status in [
        aanwezig_domain::MeldingStatus::Concept,
        aanwezig_domain::MeldingStatus::Geregistreerd,
    ] {
        ids.push(store_melding(&app, &student, status).await);
    }
    let coord = app.login("coordinator").await;
    let (_, html) = app.get(&coord, &dossier(&id)).await;
    for n in &ids {
        assert!(
            html.contains(&format!("/meldingen/{n}\"")),
            "the school sees {n}"
        );
    }
    assert!(
        html.contains(&format!("{}/contact/1\"", dossier(&id))),
        "the contact moment, numbered from 1: {html}"
    );
    assert!(html.contains("13 november 2025"));
    let lpa = app.login("leerplicht").await;
    let (status, html) = app.get(&lpa, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains(&format!("/meldingen/{}\"", ids[0])),
        "no concept"
    );
    assert!(
        html.contains(&format!("/meldingen/{}\"", ids[1])),
        "the sent one"
    );
}

#[tokio::test]
async fn an_evaluation_keeps_its_figures_and_bad_numbers_get_the_dutch_404() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    let sid = StudentId::parse(&id).unwrap();
    open_case(&app, &id, "3a", &[]).await;
    start_intervention(&app, &id, "op tijd komen", ymd(2025, 10, 27)).await;
    app.post_ok(
        &c,
        &format!("{}/interventie/1/evaluatie", dossier(&id)),
        &[("notitie", "gaat beter")],
    )
    .await;
    let stored = app.store.case(&sid).await.unwrap().unwrap();
    let e = &stored.interventions[0].evaluations[0];
    let before = e.before.expect("before kept");
    let since = e.since.expect("since kept");
    assert_eq!(since.from, crate::common::ymd(2025, 10, 27));
    assert!(before.to < since.from);
    assert!(since.permille.is_some());
    let (_, html) = app
        .get(&c, &format!("{}/interventie/1", dossier(&id)))
        .await;
    assert!(html.contains("Aanwezigheid bij deze evaluatie"), "{html}");

    for path in [
        format!("{}/interventie/abc", dossier(&id)),
        format!("{}/interventie/0", dossier(&id)),
    ] {
        let (status, html) = app.get(&c, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Niet gevonden"), "the Dutch page: {html}");
    }
}

/// A coordinator hands the case over to the class's mentor: recorded with
/// who and when, shown as the dossierhouder, refused to a mentor and for a
/// partner, and the mentor now leads it.
#[tokio::test]
async fn the_case_is_handed_over_to_the_mentor() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3b", &[]).await;
    let m = app.login("mentor").await;
    let (status, _, _) = app
        .submit(
            &m,
            &format!("{}/dossierhouder", dossier(&id)),
            &[("gebruiker", "mentor")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    assert!(
        html.contains("/dossier/dossierhouder\""),
        "the form is there"
    );
    // A partner cannot lead a case (and is not offered).
    let (status, _, body) = app
        .submit(
            &c,
            &format!("{}/dossierhouder", dossier(&id)),
            &[("gebruiker", "jeugdarts")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("niet door de rol jeugdarts"), "{body}");
    saved(
        &app,
        &c,
        &format!("{}/dossierhouder", dossier(&id)),
        &[("gebruiker", "mentor")],
    )
    .await;
    let case = crate::common::case_of(&app, &id).await;
    assert_eq!(case.owner(), "mentor");
    assert_eq!(case.handovers.len(), 1);
    assert_eq!(case.handovers[0].from, "coordinator");
    let (_, list) = app.get(&c, "/dossiers").await;
    assert!(list.contains("Test mentor"), "the list names the new lead");
}

/// The list shows a partner only the open cases they are brought into, as
/// redacted for their role: the leerplichtambtenaar who may see a student
/// through a sent melding gets no row for that student's case (open or
/// closed), the ketenpartner's row does not name the jeugdarts, and a
/// released partner gets no row.
#[tokio::test]
async fn partners_see_in_the_list_only_the_open_cases_they_are_on() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let other = app.other_student.clone();
    open_case(&app, &own, "3b", &["jeugdarts", "keten"]).await;
    open_case(&app, &other, "3a", &[]).await;
    let student = crate::common::student(&app, &other);
    store_melding(
        &app,
        &student,
        aanwezig_domain::MeldingStatus::Geregistreerd,
    )
    .await;

    let lpa = app.login("leerplicht").await;
    let (status, _) = app.get(&lpa, &format!("/leerlingen/{other}")).await;
    assert_eq!(status, StatusCode::OK, "in scope through the melding");
    for q in ["", "?status=gesloten", "?status=alle"] {
        let (status, list) = app.get(&lpa, &format!("/dossiers{q}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!list.contains(&dossier(&other)), "{q}: no row for {other}");
        assert!(!list.contains(&dossier(&own)), "{q}: not on {own}'s case");
    }

    let keten = app.login("keten").await;
    let (_, list) = app.get(&keten, "/dossiers").await;
    let row = list
        .split("<tr")
        .find(|r| r.contains(&dossier(&own)))
        .expect("the ketenpartner's row");
    assert!(row.contains("Test keten"), "{row}");
    assert!(
        !row.contains("Test jeugdarts"),
        "the jeugdarts is not named: {row}"
    );
    assert!(!list.contains(&dossier(&other)));
    let (_, page) = app.get(&keten, &dossier(&own)).await;
    assert!(page.contains("Test keten"), "the dossier page's partners");
    assert!(!page.contains("Test jeugdarts"), "nor on the dossier page");
    let arts = app.login("jeugdarts").await;
    let (_, list) = app.get(&arts, "/dossiers").await;
    assert!(
        list.contains("Test jeugdarts"),
        "the jeugdarts sees themself"
    );

    let c = app.login("coordinator").await;
    saved(
        &app,
        &c,
        &format!("{}/partners/verwijderen", dossier(&own)),
        &[("gebruiker", "keten")],
    )
    .await;
    for q in ["", "?status=alle"] {
        let (_, list) = app.get(&keten, &format!("/dossiers{q}")).await;
        assert!(!list.contains(&dossier(&own)), "{q}: released");
    }
}

/// Only who can see the student may lead the case: a mentor of another
/// class is not offered and is refused at the form; a mentor of the
/// student's class written in other capitals is offered.
#[tokio::test]
async fn the_case_is_not_handed_to_a_mentor_of_another_class() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    open_case(&app, &id, "3b", &[]).await;
    let other_class = {
        let live = app.state.read().unwrap();
        let i = live.position(&app.other_student).unwrap();
        live.school.students()[i].class.clone()
    };
    let hash = aanwezig_auth::hash_password(crate::common::PASSWORD).unwrap();
    for (username, class) in [
        ("elders", other_class),
        ("hoofdletters", app.mentor_class.to_uppercase()),
    ] {
        app.store
            .create_user(&aanwezig_storage::User {
                username: username.into(),
                display_name: format!("Test {username}"),
                role: Role::Mentor,
                classes: vec![class],
                email: None,
                active: true,
                password_hash: hash.clone(),
                created_at: crate::common::now(),
                account_id: String::new(),
            })
            .await
            .unwrap();
    }
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &dossier(&id)).await;
    let start = html
        .find("/dossier/dossierhouder\"")
        .expect("the handover form");
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    assert!(form.contains("value=\"mentor\""), "{form}");
    assert!(form.contains("value=\"hoofdletters\""), "{form}");
    assert!(form.contains("value=\"zorg\""), "{form}");
    assert!(!form.contains("value=\"elders\""), "{form}");

    let (status, _, body) = app
        .submit(
            &c,
            &format!("{}/dossierhouder", dossier(&id)),
            &[("gebruiker", "elders")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("kan dit dossier niet leiden"), "{body}");
    assert_eq!(case_of(&app, &id).await.owner(), "coordinator");
    saved(
        &app,
        &c,
        &format!("{}/dossierhouder", dossier(&id)),
        &[("gebruiker", "hoofdletters")],
    )
    .await;
    assert_eq!(case_of(&app, &id).await.owner(), "hoofdletters");
}

#[tokio::test]
async fn a_student_number_with_url_characters_stays_one_segment_in_redirects_and_links() {
    let app = spawn_app().await;
    let mut s = crate::common::student(&app, &app.own_student);
    s.id = StudentId::parse("AB/12?x#y%z").unwrap();
    app.store
        .upsert_students(&[aanwezig_storage::StoredStudent {
            student: s,
            left_on: None,
        }])
        .await
        .unwrap();
    app.state.reload().await.unwrap();
    let encoded = "/leerlingen/AB%2F12%3Fx%23y%25z";
    let c = app.login("coordinator").await;
    let location = app
        .post_ok(
            &c,
            &format!("{encoded}/dossier/openen"),
            &[
                ("bron", "zorgen"),
                ("stap", "3b"),
                ("reden", "vaak afwezig"),
            ],
        )
        .await;
    assert!(
        location.starts_with(&format!("{encoded}/dossier")),
        "{location}"
    );
    let page = location.split('#').next().unwrap();
    let (status, html) = app.get(&c, page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("vaak afwezig"), "{html}");
    // Every form and link on the page keeps the number encoded.
    assert!(
        html.contains(&format!("action=\"{encoded}/dossier/stap\"")),
        "{html}"
    );
    assert!(!html.contains("/leerlingen/AB/12"), "{html}");
    // A step change redirects to the same encoded address.
    let location = app
        .post_ok(
            &c,
            &format!("{encoded}/dossier/stap"),
            &[("naar", "4a"), ("waarom", "afspraken niet nagekomen")],
        )
        .await;
    assert!(
        location.starts_with(&format!("{encoded}/dossier")),
        "{location}"
    );
}

/// A VO WIJ ketenpartner is brought in only after the parents' consent is
/// recorded, like the jeugdarts; withdrawing it ends their access.
#[tokio::test]
async fn a_ketenpartner_is_brought_in_only_with_the_parents_consent() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let c = app.login("coordinator").await;
    open_case(&app, &id, "4b", &[]).await;
    let partners = format!("{}/partners", dossier(&id));
    let (status, _, body) = app.submit(&c, &partners, &[("gebruiker", "keten")]).await;
    assert_ne!(status, StatusCode::SEE_OTHER, "refused without consent");
    assert!(
        body.contains("kan pas meekijken als de ouders toestemming gaven"),
        "{body}"
    );
    assert!(case_of(&app, &id).await.involved.is_empty());

    saved(
        &app,
        &c,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "vowij_ja"), ("partij", "ouders")],
    )
    .await;
    saved(&app, &c, &partners, &[("gebruiker", "keten")]).await;
    let keten = app.login("keten").await;
    assert_eq!(app.get(&keten, &dossier(&id)).await.0, StatusCode::OK);

    saved(
        &app,
        &c,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "vowij_nee"), ("partij", "ouders")],
    )
    .await;
    assert_eq!(
        app.get(&keten, &dossier(&id)).await.0,
        StatusCode::NOT_FOUND,
        "consent withdrawn: no more access"
    );
}

/// "Wat nu" never says "niets open" while actions of the plan are open
/// (issue 11: a jeugdarts case said so with two actions open): with no
/// dated task, it lists the open actions of the checklist, for the school
/// and for the partner alike.
#[tokio::test]
async fn wat_nu_lists_the_open_actions_instead_of_niets_open() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3a", &["jeugdarts"]).await;
    let case = case_of(&app, &own).await;
    let open: Vec<String> = case
        .checklist
        .iter()
        .filter(|i| i.status.is_open())
        .map(|i| i.label_nl.clone())
        .collect();
    assert!(!open.is_empty(), "a new 3a case has open actions");
    for user in ["coordinator", "jeugdarts"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, &dossier(&own)).await;
        assert_eq!(status, StatusCode::OK);
        let wat_nu = html
            .split("<h2 id=\"wat-nu\">")
            .nth(1)
            .and_then(|p| p.split("</section>").next())
            .unwrap();
        assert!(!wat_nu.contains("niets open"), "{user}: {wat_nu}");
        for label in &open {
            let label = label.replace('\'', "&#39;");
            assert!(wat_nu.contains(&label), "{user}: {label} in {wat_nu}");
        }
    }
}
