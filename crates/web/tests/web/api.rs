//! The JSON API: sign-in and CSRF, scopes, changing a lesson with the
//! signals in the same response, validation, and the OpenAPI document.

use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp};

/// The Friday of every test, and the Thursday before it.
const FRIDAY: &str = "2025-11-14";
const THURSDAY: &str = "2025-11-13";

async fn get_json(app: &TestApp, c: &Client, path: &str) -> (StatusCode, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn csrf(app: &TestApp, c: &Client) -> String {
    let (status, s) = get_json(app, c, "/api/sessie").await;
    assert_eq!(status, StatusCode::OK);
    s["csrf_token"].as_str().unwrap().to_owned()
}

async fn put(
    app: &TestApp,
    c: &Client,
    csrf: Option<&str>,
    student: &str,
    date: &str,
    lesson: u8,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = c
        .put(app.url(&format!(
            "/api/leerlingen/{student}/registraties/{date}/{lesson}"
        )))
        .json(&body);
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json::<Value>().await.unwrap_or(Value::Null))
}

/// The `revision` the API gives for one lesson (0: not registered).
async fn revision(app: &TestApp, c: &Client, student: &str, date: &str, lesson: u8) -> u64 {
    let (status, regs) = get_json(
        app,
        c,
        &format!("/api/leerlingen/{student}/registraties?van={date}&tot={date}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{regs}");
    regs.as_array()
        .unwrap()
        .iter()
        .find(|r| r["lesson"] == lesson)
        .map_or(0, |r| r["revision"].as_u64().expect("a revision"))
}

/// `body` with the lesson's current revision added.
async fn with_revision(
    app: &TestApp,
    c: &Client,
    student: &str,
    date: &str,
    lesson: u8,
    mut body: Value,
) -> Value {
    body["revision"] = json!(revision(app, c, student, date, lesson).await);
    body
}

#[tokio::test]
async fn session_gives_the_user_and_the_csrf_token() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, s) = get_json(&app, &c, "/api/sessie").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["username"], "mentor");
    assert_eq!(s["role"], "mentor");
    assert_eq!(s["classes"], json!([app.mentor_class]));
    let token = s["csrf_token"].as_str().unwrap();
    assert!(token.len() >= 20, "{token}");
    assert_eq!(
        token,
        app.csrf(&c).await,
        "the same token as in the page forms"
    );
}

#[tokio::test]
async fn without_sign_in_every_call_is_401_json() {
    let app = spawn_app().await;
    let c = app.client();
    let s = &app.own_student;
    for path in [
        "/api/sessie".to_owned(),
        "/api/leerlingen".to_owned(),
        format!("/api/leerlingen/{s}"),
        format!("/api/leerlingen/{s}/registraties"),
        format!("/api/leerlingen/{s}/signalen"),
        "/api/signalen".to_owned(),
    ] {
        let (status, body) = get_json(&app, &c, &path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"], "unauthorized", "{path}");
        assert_eq!(body["message"], "niet ingelogd", "{path}");
    }
    let (status, _) = put(&app, &c, None, s, FRIDAY, 1, json!({"code": "A"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_json(&app, &c, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "the document needs no sign-in");
    let (status, body) = get_json(&app, &c, "/api/bestaat-niet").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"], "not_found",
        "unknown API paths answer in JSON"
    );
}

#[tokio::test]
async fn a_mentor_lists_only_their_class() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, list) = get_json(&app, &c, "/api/leerlingen").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|s| s["class"] == app.mentor_class.as_str()),
        "{list:?}"
    );
    let ids: Vec<&str> = list.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&app.own_student.as_str()));
    assert!(!ids.contains(&app.other_student.as_str()));

    // The coordinator sees more, and can filter by class and search.
    let c = app.login("coordinator").await;
    let (_, all) = get_json(&app, &c, "/api/leerlingen").await;
    assert_eq!(all.as_array().unwrap().len(), 60);
    let (_, class) = get_json(
        &app,
        &c,
        &format!("/api/leerlingen?klas={}", app.mentor_class.to_lowercase()),
    )
    .await;
    assert_eq!(class.as_array().unwrap().len(), list.len());
    let (_, found) = get_json(
        &app,
        &c,
        &format!("/api/leerlingen?zoek={}", app.other_student),
    )
    .await;
    assert!(found
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == app.other_student.as_str()));
    let mentor = list[0]["mentor"].as_str().unwrap();
    let (_, by_mentor) = get_json(
        &app,
        &c,
        &format!("/api/leerlingen?mentor={}", mentor.to_uppercase()),
    )
    .await;
    let by_mentor = by_mentor.as_array().unwrap();
    assert!(!by_mentor.is_empty());
    assert!(by_mentor.iter().all(|s| s["mentor"] == mentor));
    let (status, body) = get_json(&app, &c, "/api/leerlingen?stap=7").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("geen stap"));
    // Every listed student at step 2 is at step 2.
    let (_, step2) = get_json(&app, &c, "/api/leerlingen?stap=2").await;
    assert!(step2.as_array().unwrap().iter().all(|s| s["step"] == "2"));

    // Reading the list is logged once, without a student.
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("mentor".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::Read && e.student.is_none()));
}

#[tokio::test]
async fn a_mentor_cannot_reach_another_class() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let token = csrf(&app, &c).await;
    let other = &app.other_student;
    for path in [
        format!("/api/leerlingen/{other}"),
        format!("/api/leerlingen/{other}/registraties"),
        format!("/api/leerlingen/{other}/signalen"),
    ] {
        let (status, body) = get_json(&app, &c, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"], "not_found");
    }
    let (status, _) = put(
        &app,
        &c,
        Some(&token),
        other,
        THURSDAY,
        2,
        json!({"code": "A"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nothing was stored.
    let id = aanwezig_domain::StudentId::parse(other).unwrap();
    assert!(app
        .store
        .registration_history(&id)
        .await
        .unwrap()
        .is_empty());
    // An unknown student looks the same as one outside the class.
    let (status, _) = get_json(&app, &c, "/api/leerlingen/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The own student is fine.
    let (status, s) = get_json(&app, &c, &format!("/api/leerlingen/{}", app.own_student)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["class"], app.mentor_class.as_str());
}

#[tokio::test]
async fn beheerder_and_partners_get_no_student_data() {
    let app = spawn_app().await;
    for user in ["beheer", "leerplicht", "jeugdarts", "keten"] {
        let c = app.login(user).await;
        let token = csrf(&app, &c).await;
        let (status, body) = get_json(&app, &c, "/api/leerlingen").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        assert_eq!(body["error"], "forbidden");
        let (status, _) = put(
            &app,
            &c,
            Some(&token),
            &app.own_student,
            THURSDAY,
            2,
            json!({"code": "A"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
}

/// A student of the mentor's class without an open `unexplained` signal
/// today, so that one unknown lesson today raises a new one.
async fn student_without_open_unexplained(app: &TestApp, c: &Client) -> String {
    let (_, open) = get_json(app, c, "/api/signalen?scope=open&regel=unexplained").await;
    let flagged: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["student"].as_str().unwrap())
        .collect();
    let (_, list) = get_json(app, c, "/api/leerlingen").await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .find(|id| !flagged.contains(id))
        .expect("a student without an open unexplained signal")
        .to_owned()
}

#[tokio::test]
async fn put_needs_the_csrf_header_and_returns_the_new_signal() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let student = student_without_open_unexplained(&app, &c).await;

    let (status, body) = put(&app, &c, None, &student, FRIDAY, 1, json!({"code": "A"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no X-CSRF-Token: {body}");
    // A JSON client gets a JSON error that says what to do.
    assert_eq!(body["error"], "forbidden", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("X-CSRF-Token"),
        "{body}"
    );
    let (status, _) = put(
        &app,
        &c,
        Some("verkeerd"),
        &student,
        FRIDAY,
        1,
        json!({"code": "A"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong token");

    let token = csrf(&app, &c).await;
    let change = with_revision(&app, &c, &student, FRIDAY, 1, json!({"code": "A"})).await;
    let (status, body) = put(&app, &c, Some(&token), &student, FRIDAY, 1, change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["registration"]["date"], FRIDAY);
    assert_eq!(body["registration"]["lesson"], 1);
    assert_eq!(body["registration"]["code"], "A");
    assert_eq!(body["registration"]["category"], "unknown");
    let new: Vec<&Value> = body["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rule"] == "unexplained" && s["fired_on"] == FRIDAY)
        .collect();
    assert_eq!(new.len(), 1, "{body}");
    let signal = new[0];
    assert_eq!(signal["open"], true);
    assert_eq!(signal["step"], "3b");
    assert_eq!(signal["student"], student.as_str());
    assert!(signal["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["date"] == FRIDAY && e["lesson"] == 1 && e["category"] == "unknown"));
    assert!(signal["explanation"]
        .as_str()
        .unwrap()
        .contains("vrijdag 14 november 2025"));
    assert!(
        body["step"].as_str().unwrap().starts_with('3')
            || body["step"].as_str().unwrap().starts_with('4'),
        "{}",
        body["step"]
    );

    // The change is live for every later request, and stored.
    let (_, open) = get_json(&app, &c, &format!("/api/leerlingen/{student}")).await;
    assert!(open["open_signals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["rule"] == "unexplained" && s["fired_on"] == FRIDAY));
    let (_, regs) = get_json(
        &app,
        &c,
        &format!("/api/leerlingen/{student}/registraties?van={FRIDAY}&tot={FRIDAY}"),
    )
    .await;
    let regs = regs.as_array().unwrap();
    assert!(regs.iter().all(|r| r["date"] == FRIDAY));
    assert!(regs
        .iter()
        .any(|r| r["lesson"] == 1 && r["category"] == "unknown"));
    let (_, week) = get_json(&app, &c, "/api/signalen?scope=week&regel=unexplained").await;
    assert!(week
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["student"] == student.as_str() && s["fired_on"] == FRIDAY));

    // Audited as a change of this student.
    let id = aanwezig_domain::StudentId::parse(&student).unwrap();
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(id),
            username: Some("mentor".into()),
            limit: 20,
        })
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == AuditAction::Change
        && e.detail.contains(FRIDAY)
        && e.detail.contains("onbekend afwezig")));
    assert!(log.iter().any(|e| e.action == AuditAction::Read));
}

#[tokio::test]
async fn changes_are_validated_in_dutch() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let token = csrf(&app, &c).await;
    let s = app.own_student.clone();
    let cases = [
        (
            json!({"code": "Z", "note": "heeft griep"}),
            THURSDAY,
            3,
            "ziekmelding",
        ),
        (
            json!({"category": "reported_sick", "note": "koorts"}),
            THURSDAY,
            3,
            "ziekmelding",
        ),
        (json!({"code": "QQ"}), THURSDAY, 3, "bekende codes"),
        (json!({}), THURSDAY, 3, "code of een categorie"),
        (
            json!({"code": "A", "minutes_late": 5}),
            THURSDAY,
            3,
            "alleen bij te laat",
        ),
        (json!({"code": "A"}), "2025-10-21", 3, "geen schooldag"),
        (json!({"code": "A"}), "2025-11-16", 3, "geen schooldag"),
        (json!({"code": "A"}), THURSDAY, 9, "lesrooster"),
        (json!({"kleur": "rood"}), THURSDAY, 3, "geen geldige JSON"),
    ];
    for (body, date, lesson, needle) in cases {
        let (status, answer) = put(&app, &c, Some(&token), &s, date, lesson, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} on {date}: {answer}"
        );
        assert_eq!(answer["error"], "invalid");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    // Sick without a note is fine, and a late arrival keeps its minutes.
    let sick = with_revision(&app, &c, &s, THURSDAY, 3, json!({"code": "Z"})).await;
    let (status, _) = put(&app, &c, Some(&token), &s, THURSDAY, 3, sick).await;
    assert_eq!(status, StatusCode::OK);
    let late = json!({"code": "L", "minutes_late": 12, "note": "bus"});
    let late = with_revision(&app, &c, &s, THURSDAY, 4, late).await;
    let (status, body) = put(&app, &c, Some(&token), &s, THURSDAY, 4, late).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["registration"]["minutes_late"], 12);
    assert_eq!(body["registration"]["note"], "bus");
    assert_eq!(body["registration"]["category"], "late_unexcused");
}

#[tokio::test]
async fn signal_filters() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (status, all) = get_json(&app, &c, "/api/signalen?scope=all").await;
    assert_eq!(status, StatusCode::OK);
    let all = all.as_array().unwrap();
    assert!(!all.is_empty(), "the demo school has signals");
    let (_, open) = get_json(&app, &c, "/api/signalen").await;
    let open = open.as_array().unwrap();
    assert!(open.len() <= all.len());
    assert!(open.iter().all(|s| s["open"] == true));
    let (_, week) = get_json(&app, &c, "/api/signalen?scope=week").await;
    assert!(week
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["fired_on"].as_str().unwrap() >= "2025-11-10"));
    let (_, b) = get_json(&app, &c, "/api/signalen?scope=all&stap=4b").await;
    assert!(b.as_array().unwrap().iter().all(|s| s["step"] == "4b"));
    let (_, contact) = get_json(&app, &c, "/api/signalen?scope=all&regel=contact").await;
    assert!(contact
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["rule"] == "contact" && s["deadline"].is_string()));
    let (status, body) = get_json(&app, &c, "/api/signalen?regel=spijbelen").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("bestaat niet"));
    let (status, _) = get_json(&app, &c, "/api/signalen?scope=altijd").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Newest first.
    let dates: Vec<&str> = all
        .iter()
        .map(|s| s["fired_on"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));

    // One student's signals are theirs, every one.
    let first = all[0]["student"].as_str().unwrap();
    let (_, mine) = get_json(&app, &c, &format!("/api/leerlingen/{first}/signalen")).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(
        mine.len(),
        all.iter().filter(|s| s["student"] == first).count()
    );
}

#[tokio::test]
async fn a_put_from_a_state_that_changed_meanwhile_is_refused_with_409() {
    let app = spawn_app().await;
    let first = app.login("coordinator").await;
    let second = app.login("mentor").await;
    let (t1, t2) = (csrf(&app, &first).await, csrf(&app, &second).await);
    let s = app.own_student.clone();
    // Both read the lesson.
    let seen = revision(&app, &first, &s, THURSDAY, 5).await;
    assert!(seen > 0, "the demo registered it");
    assert_eq!(revision(&app, &second, &s, THURSDAY, 5).await, seen);
    let (_, regs) = get_json(
        &app,
        &first,
        &format!("/api/leerlingen/{s}/registraties?van={THURSDAY}&tot={THURSDAY}"),
    )
    .await;
    let then = regs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lesson"] == 5)
        .unwrap()
        .clone();

    // The first changes it and gets the new revision back.
    let (status, body) = put(
        &app,
        &first,
        Some(&t1),
        &s,
        THURSDAY,
        5,
        json!({"code": "A", "revision": seen}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = body["registration"]["revision"].as_u64().unwrap();
    assert!(new > seen);
    assert_eq!(body["previous"]["revision"], seen);
    assert_eq!(revision(&app, &first, &s, THURSDAY, 5).await, new);

    // The second, from the state it read, is refused and told what changed.
    let (status, body) = put(
        &app,
        &second,
        Some(&t2),
        &s,
        THURSDAY,
        5,
        json!({"code": "Z", "revision": seen}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "stale");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("Er is niets opgeslagen"), "{message}");
    assert!(
        message.contains(&format!(
            "Leerling {s}, donderdag 13 november 2025 lesuur 5"
        )),
        "{message}"
    );
    assert!(
        message.contains(
            "nu staat er ‘A — onbekend afwezig’ (gewijzigd door coordinator op 14 nov 2025 10:00)"
        ),
        "{message}"
    );
    let changes = body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{body}");
    let change = &changes[0];
    assert_eq!(change["student"], s.as_str());
    assert_eq!(change["date"], THURSDAY);
    assert_eq!(change["lesson"], 5);
    assert_eq!(change["expected_revision"], seen);
    assert_eq!(
        change["then"], then,
        "the lesson as the second user read it"
    );
    assert_eq!(change["now"]["code"], "A");
    assert_eq!(change["now"]["revision"], new);
    assert_eq!(change["changed_by"], "coordinator");
    assert_eq!(change["changed_at"], "2025-11-14T09:00:00Z");
    assert_eq!(change["by_import"], false);
    // Nothing of the second change was stored.
    let id = aanwezig_domain::StudentId::parse(&s).unwrap();
    let now = app
        .store
        .student_registrations(&id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date.to_string() == THURSDAY && r.lesson == 5)
        .unwrap();
    assert_eq!(now.code.as_deref(), Some("A"));
    assert_eq!(revision(&app, &first, &s, THURSDAY, 5).await, new);

    // Redone from the current revision, it goes through.
    let (status, body) = put(
        &app,
        &second,
        Some(&t2),
        &s,
        THURSDAY,
        5,
        json!({"code": "Z", "revision": new}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["registration"]["code"], "Z");
}

#[tokio::test]
async fn a_put_of_a_registered_lesson_needs_its_revision() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let token = csrf(&app, &c).await;
    let s = app.own_student.clone();
    let before = revision(&app, &c, &s, THURSDAY, 6).await;
    assert!(before > 0);
    let (status, body) = put(
        &app,
        &c,
        Some(&token),
        &s,
        THURSDAY,
        6,
        json!({"code": "A"}),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    assert_eq!(body["error"], "revision_required");
    assert!(
        body["message"].as_str().unwrap().contains("revisie"),
        "{body}"
    );
    assert_eq!(
        revision(&app, &c, &s, THURSDAY, 6).await,
        before,
        "nothing written"
    );

    // A lesson not registered yet (leave granted ahead: next Monday) may
    // leave it out, or send 0; once registered, it needs the revision.
    const MONDAY: &str = "2025-11-17";
    assert_eq!(revision(&app, &c, &s, MONDAY, 1).await, 0);
    let (status, body) = put(&app, &c, Some(&token), &s, MONDAY, 1, json!({"code": "V"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["previous"], Value::Null);
    let (status, body) = put(
        &app,
        &c,
        Some(&token),
        &s,
        MONDAY,
        2,
        json!({"code": "V", "revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = put(&app, &c, Some(&token), &s, MONDAY, 1, json!({"code": "O"})).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    // "Not registered" is a state too: 0 for a lesson registered meanwhile is stale.
    let (status, body) = put(
        &app,
        &c,
        Some(&token),
        &s,
        MONDAY,
        1,
        json!({"code": "O", "revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["changes"][0]["then"], Value::Null);
    assert_eq!(body["changes"][0]["now"]["code"], "V");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("stond er ‘niet geregistreerd’"));
}

/// Every route of the API, as the document must list it.
const PATHS: [&str; 7] = [
    "/api/leerlingen",
    "/api/leerlingen/{id}",
    "/api/leerlingen/{id}/registraties",
    "/api/leerlingen/{id}/registraties/{datum}/{lesuur}",
    "/api/leerlingen/{id}/signalen",
    "/api/openapi.json",
    "/api/sessie",
];

#[tokio::test]
async fn openapi_document_lists_every_path() {
    let app = spawn_app().await;
    let (status, doc) = get_json(&app, &app.client(), "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    let mut expected = PATHS.to_vec();
    expected.push("/api/signalen");
    expected.sort_unstable();
    assert_eq!(paths, expected);
    let put = &doc["paths"]["/api/leerlingen/{id}/registraties/{datum}/{lesuur}"]["put"];
    assert!(put["requestBody"].is_object());
    assert!(put["responses"]["422"].is_object());
    assert!(put["responses"]["409"].is_object());
    assert!(put["responses"]["428"].is_object());
    assert!(doc["components"]["schemas"]["ConflictBody"]["properties"]["changes"].is_object());
    assert!(
        doc["components"]["schemas"]["RegistrationInput"]["properties"]["revision"].is_object()
    );
    assert!(doc["components"]["securitySchemes"]["csrf"].is_object());
    assert!(doc["components"]["schemas"]["Signal"].is_object());
    let categories = &doc["components"]["schemas"]["Category"]["enum"];
    assert_eq!(categories.as_array().unwrap().len(), 9);
    // Any change to the API shows up in review.
    insta::assert_json_snapshot!("openapi", doc);
}
