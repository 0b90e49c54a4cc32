//! Privacy: the audit log for the beheerder (`/auditlog`) and the AVG
//! inzage of one student (`/leerlingen/{id}/inzage` and `.json`).

use aanwezig_domain::{Category, StudentId};
use aanwezig_storage::{AuditAction, AuditEntry, AuditFilter};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{spawn_app, TestApp};

/// Text as askama writes it into HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn sid(id: &str) -> StudentId {
    StudentId::parse(id).unwrap()
}

/// Every audit entry about `student` (or, without one, all of them).
async fn entries(app: &TestApp, student: Option<&str>) -> Vec<AuditEntry> {
    app.store
        .audit_log(&AuditFilter {
            student: student.map(sid),
            username: None,
            limit: 100_000,
        })
        .await
        .unwrap()
}

/// The rows of the page's data table.
fn rows(html: &str) -> Vec<&str> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    let body = &html[start..html[start..].find("</tbody>").unwrap() + start];
    body.split("<tr>").skip(1).collect()
}

/// Changes one present lesson of `id` to unknown (O), as a coordinator's
/// correction: one history entry.
async fn correct_one_lesson(app: &TestApp, id: &str) {
    let mut rec = app
        .store
        .student_registrations(&sid(id))
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| r.category == Category::Present)
        .unwrap();
    rec.category = Category::Unknown;
    rec.code = Some("O".into());
    app.store
        .set_registration(&rec, "coordinator", crate::common::now())
        .await
        .unwrap();
    app.state.write().unwrap().apply(&rec).unwrap();
}

#[tokio::test]
async fn the_beheerder_reads_the_log_and_filters_it_by_student_and_user() {
    let app = spawn_app().await;
    let (own, other) = (app.own_student.clone(), app.other_student.clone());
    let coord = app.login("coordinator").await;
    for id in [&own, &other] {
        let (s, _) = app.get(&coord, &format!("/leerlingen/{id}")).await;
        assert_eq!(s, StatusCode::OK);
    }
    let mentor = app.login("mentor").await;
    let (s, _) = app.get(&mentor, &format!("/leerlingen/{own}")).await;
    assert_eq!(s, StatusCode::OK);

    let beheer = app.login("beheer").await;
    let (s, html) = app.get(&beheer, "/auditlog").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("href=\"/auditlog\""), "menu item");
    assert!(html.contains(&format!("<td>{own}</td>")));
    assert!(html.contains(&format!("<td>{other}</td>")));
    assert!(html.contains("<td>leerlingpagina</td>"));
    // A student number is text, never a link to a page the beheerder may
    // not open.
    assert!(!html.contains(&format!("href=\"/leerlingen/{own}")));

    let (s, html) = app.get(&beheer, &format!("/auditlog?leerling={own}")).await;
    assert_eq!(s, StatusCode::OK);
    let found = rows(&html);
    // Read by the coordinator and by the mentor.
    assert_eq!(found.len(), 2, "{html}");
    assert!(found.iter().all(|r| r.contains(&format!("<td>{own}</td>"))));
    assert!(!html.contains(&format!("<td>{other}</td>")));

    let (s, html) = app.get(&beheer, "/auditlog?gebruiker=mentor").await;
    assert_eq!(s, StatusCode::OK);
    let found = rows(&html);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|r| r.contains("<td>mentor</td>")),
        "{html}"
    );
    assert!(!html.contains("<td>coordinator</td>"));
    assert!(!html.contains(&format!("<td>{other}</td>")));

    // Both filters at once.
    let (_, html) = app
        .get(
            &beheer,
            &format!("/auditlog?leerling={other}&gebruiker=mentor"),
        )
        .await;
    assert!(rows(&html).is_empty(), "{html}");
    assert!(html.contains("Geen regels gevonden"));

    // Not a student number at all.
    let (s, html) = app.get(&beheer, "/auditlog?leerling=a%20b").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("geen geldig leerlingnummer"));
}

#[tokio::test]
async fn the_beheerder_sees_what_kind_of_thing_was_done_not_the_categories() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    // As the register writes a change, and as the dossier does.
    for detail in [
        "lesuur 3 op 2025-09-08: ziek gemeld → onbekend",
        "dossier: stap 3a, reden ziek gemeld",
    ] {
        app.store
            .audit(&AuditEntry {
                at: crate::common::now(),
                username: "mentor".into(),
                action: AuditAction::Change,
                student: Some(sid(&own)),
                detail: detail.into(),
            })
            .await
            .unwrap();
    }
    let beheer = app.login("beheer").await;
    let (s, html) = app.get(&beheer, &format!("/auditlog?leerling={own}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("ziek"), "{html}");
    assert!(!html.contains("onbekend"), "{html}");
    let found = rows(&html);
    assert!(
        found
            .iter()
            .any(|r| r.contains("<td>registraties</td>") && r.contains("<td>mentor</td>")),
        "{html}"
    );
    assert!(
        found.iter().any(|r| r.contains("<td>dossier</td>")),
        "{html}"
    );
    // The coordinators' AVG inzage keeps the full text.
    let coord = app.login("coordinator").await;
    let (s, html) = app.get(&coord, &format!("/leerlingen/{own}/inzage")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&escaped("ziek gemeld → onbekend")), "{html}");
}

#[tokio::test]
async fn only_the_beheerder_sees_the_log() {
    let app = spawn_app().await;
    for user in [
        "coordinator",
        "zorg",
        "mentor",
        "leerplicht",
        "jeugdarts",
        "keten",
    ] {
        let c = app.login(user).await;
        let (s, _) = app.get(&c, "/auditlog").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (_, home) = app.get(&c, "/").await;
        assert!(!home.contains("href=\"/auditlog\""), "menu of {user}");
    }
    let c = app.client();
    let r = c.get(app.url("/auditlog")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn viewing_the_log_is_itself_logged() {
    let app = spawn_app().await;
    let viewed = |e: &AuditEntry| {
        e.username == "beheer"
            && e.action == AuditAction::Read
            && e.student.is_none()
            && e.detail == "logboek"
    };
    assert_eq!(
        entries(&app, None)
            .await
            .iter()
            .filter(|e| viewed(e))
            .count(),
        0
    );
    let beheer = app.login("beheer").await;
    app.get(&beheer, "/auditlog").await;
    app.get(&beheer, "/auditlog?gebruiker=beheer").await;
    assert_eq!(
        entries(&app, None)
            .await
            .iter()
            .filter(|e| viewed(e))
            .count(),
        2
    );
    // The view is on the page it wrote itself, newest first.
    let (_, html) = app.get(&beheer, "/auditlog?gebruiker=beheer").await;
    let first = rows(&html)[0];
    assert!(first.contains("<td>logboek</td>"), "{first}");
    assert!(first.contains("<td>ingezien</td>"), "{first}");
    // Dutch time: 09:00 UTC on 14 November is 10:00 in the Netherlands.
    assert!(first.contains("14 nov 2025 10:00"), "{first}");
}

#[tokio::test]
async fn more_entries_on_request_up_to_a_cap() {
    let app = spawn_app().await;
    let beheer = app.login("beheer").await;
    for _ in 0..3 {
        app.get(&beheer, "/auditlog").await;
    }
    let (_, html) = app
        .get(&beheer, "/auditlog?gebruiker=beheer&aantal=2")
        .await;
    assert_eq!(rows(&html).len(), 2);
    assert!(
        html.contains("href=\"/auditlog?gebruiker=beheer&#38;aantal=4\""),
        "{html}"
    );
    assert!(html.contains(">Meer tonen</a>"));
    let (_, html) = app
        .get(&beheer, "/auditlog?gebruiker=beheer&aantal=100")
        .await;
    assert!(rows(&html).len() < 100);
    assert!(!html.contains("Meer tonen"));
    let (_, html) = app.get(&beheer, "/auditlog?aantal=999999").await;
    assert!(html.contains("value=\"2000\""), "capped");
}

async fn inzage_json(app: &TestApp, user: &str, id: &str) -> (StatusCode, Option<String>, String) {
    let c = app.login(user).await;
    let r = c
        .get(app.url(&format!("/leerlingen/{id}/inzage.json")))
        .send()
        .await
        .unwrap();
    let disposition = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), disposition, r.text().await.unwrap())
}

#[tokio::test]
async fn the_inzage_json_holds_everything_about_the_student() {
    let app = spawn_app().await;
    // A student with signals, and a corrected lesson for the history.
    let (id, name, signals) = {
        let live = app.state.read().unwrap();
        let i = (0..live.school.students().len())
            .find(|i| !live.evaluations[*i].signals.is_empty())
            .unwrap();
        let s = &live.school.students()[i];
        (
            s.id.to_string(),
            s.name.clone(),
            live.evaluations[i].signals.len(),
        )
    };
    correct_one_lesson(&app, &id).await;
    // The correction may have fired a signal of its own.
    let signals = {
        let live = app.state.read().unwrap();
        let i = live.position(&id).unwrap();
        assert!(live.evaluations[i].signals.len() >= signals);
        live.evaluations[i].signals.len()
    };
    let zorg = app.login("zorg").await;
    app.get(&zorg, &format!("/leerlingen/{id}")).await;

    let (s, disposition, body) = inzage_json(&app, "coordinator", &id).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        disposition.as_deref(),
        Some(format!("attachment; filename=\"inzage-{id}.json\"").as_str())
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["student"]["id"], id.as_str());
    assert_eq!(v["student"]["name"], name.as_str());
    assert!(v["student"]["date_of_birth"].is_string());
    assert_eq!(v["generated_by"], "coordinator");

    let stored = app.store.student_registrations(&sid(&id)).await.unwrap();
    let regs = v["registrations"].as_array().unwrap();
    assert_eq!(regs.len(), stored.len());
    assert!(regs
        .iter()
        .any(|r| r["code"] == "O" && r["category"] == "unknown"));

    let history = v["history"].as_array().unwrap();
    let stored_history = app.store.registration_history(&sid(&id)).await.unwrap();
    assert_eq!(history.len(), stored_history.len());
    assert!(history.iter().any(|h| h["old"]["category"] == "present"
        && h["replaced"]["by"] == "coordinator"
        && h["replaced"]["import_id"].is_null()));

    assert_eq!(v["signals"].as_array().unwrap().len(), signals);
    assert!(v["signals"][0]["explanation"].as_str().unwrap().len() > 10);

    let audit = v["audit_log"].as_array().unwrap();
    assert!(audit
        .iter()
        .any(|e| e["username"] == "zorg" && e["action"] == "read"));
    // The export itself is on it, newest first.
    assert_eq!(audit[0]["action"], "export");
    assert_eq!(audit[0]["username"], "coordinator");
    assert!(audit.iter().all(|e| e["student"] == id.as_str()));
}

#[tokio::test]
async fn the_inzage_is_refused_to_mentors_and_the_beheerder() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    for user in ["mentor", "beheer", "leerplicht"] {
        let (s, _, _) = inzage_json(&app, user, &own).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let c = app.login(user).await;
        let (s, _) = app.get(&c, &format!("/leerlingen/{own}/inzage")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }
    let (s, _, _) = inzage_json(&app, "coordinator", "bestaat-niet-42").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Refusals export nothing.
    assert!(entries(&app, Some(&own))
        .await
        .iter()
        .all(|e| e.action != AuditAction::Export));
    // Only the roles that may export see the link on the student page.
    let mentor = app.login("mentor").await;
    let (_, html) = app.get(&mentor, &format!("/leerlingen/{own}")).await;
    assert!(!html.contains("/inzage"));
    let coord = app.login("coordinator").await;
    let (_, html) = app.get(&coord, &format!("/leerlingen/{own}")).await;
    assert!(html.contains(&format!("href=\"/leerlingen/{own}/inzage\"")));
}

#[tokio::test]
async fn every_export_is_audited() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let exports = |v: Vec<AuditEntry>| {
        v.into_iter()
            .filter(|e| e.action == AuditAction::Export)
            .map(|e| (e.username, e.detail))
            .collect::<Vec<_>>()
    };
    assert!(exports(entries(&app, Some(&own)).await).is_empty());
    inzage_json(&app, "coordinator", &own).await;
    let zorg = app.login("zorg").await;
    let (s, _) = app.get(&zorg, &format!("/leerlingen/{own}/inzage")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        exports(entries(&app, Some(&own)).await),
        [
            ("zorg".to_owned(), "AVG-inzage (pagina)".to_owned()),
            ("coordinator".to_owned(), "AVG-inzage (JSON)".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_printable_inzage_shows_the_student_and_the_registrations() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    correct_one_lesson(&app, &own).await;
    let name = app
        .store
        .student(&sid(&own))
        .await
        .unwrap()
        .unwrap()
        .student
        .name;
    let stored = app.store.student_registrations(&sid(&own)).await.unwrap();
    let first = &stored[0];
    let coord = app.login("coordinator").await;
    let (s, html) = app.get(&coord, &format!("/leerlingen/{own}/inzage")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("<h1>AVG-inzage: {}</h1>", escaped(&name))));
    assert!(html.contains(&format!("Registraties ({})", stored.len())));
    let day = first
        .date
        .format_localized("%a %-d %b %Y", chrono::Locale::nl_NL)
        .to_string();
    assert!(
        html.contains(&format!(
            "<td>{day}</td>\n      <td class=\"num\">{}</td>",
            first.lesson
        )),
        "first registration"
    );
    let history = app.store.registration_history(&sid(&own)).await.unwrap();
    assert!(!history.is_empty());
    assert!(html.contains(&format!("Wijzigingen van registraties ({})", history.len())));
    assert!(html.contains("href=\"/leerlingen/"));
    assert!(html.contains(&format!("href=\"/leerlingen/{own}/inzage.json\"")));
}

/// The inzage holds every case dossier and DUO melding, as the exporter's
/// role may see them: never the jeugdarts's confidential notes, and the
/// meldcode only in the ondersteuningscoördinator's export.
#[tokio::test]
async fn the_inzage_holds_the_dossier_without_what_is_not_the_schools() {
    use aanwezig_domain::case::{Actor, ConfidentialNote, Decision, DecisionKind};
    use aanwezig_domain::{Role, StudentId};

    let app = spawn_app().await;
    let id = app.own_student.clone();
    crate::common::open_case(&app, &id, "3b", &["jeugdarts"]).await;
    let sid = StudentId::parse(&id).unwrap();
    let mut case = app.store.case(&sid).await.unwrap().unwrap();
    case.add_confidential(ConfidentialNote {
        on: crate::common::today(),
        by: Actor::new("jeugdarts", Role::Jeugdarts),
        text: "spreekuur-vervolg-xyz".into(),
    })
    .unwrap();
    case.decide(Decision {
        on: crate::common::today(),
        by: Actor::new("zorg", Role::Ondersteuningscoordinator),
        kind: DecisionKind::Meldcode,
        parties: vec![],
        note: "meldcode-stap-abc".into(),
    })
    .unwrap();
    app.store
        .save_case(&case, "zorg", crate::common::now())
        .await
        .unwrap();

    let (s, _, body) = inzage_json(&app, "coordinator", &id).await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 1);
    assert_eq!(v["cases"][0]["first_step"], "3b");
    assert!(v["meldingen"].as_array().unwrap().is_empty());
    assert!(!body.contains("spreekuur-vervolg-xyz"));
    assert!(!body.contains("meldcode-stap-abc"));
    assert!(v["withheld"].as_str().unwrap().contains("jeugdarts"));

    let (_, _, body) = inzage_json(&app, "zorg", &id).await;
    assert!(!body.contains("spreekuur-vervolg-xyz"));
    assert!(body.contains("meldcode-stap-abc"));

    let c = app.login("coordinator").await;
    let (s, html) = app.get(&c, &format!("/leerlingen/{id}/inzage")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Dossier geopend op stap 3b"), "{html}");
    assert!(html.contains("jeugdarts (jeugdarts) betrokken bij het dossier"));
    assert!(!html.contains("spreekuur-vervolg-xyz"));
}
