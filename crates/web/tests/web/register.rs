//! Registering a class's lesson and correcting one lesson.

use aanwezig_domain::{Category, RegistrationRecord, RuleId, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};

use crate::common::{spawn_app, today, TestApp};

fn seg(s: &str) -> String {
    s.replace(' ', "%20")
}

fn date() -> NaiveDate {
    today()
}

/// The stored state of one lesson.
async fn stored(app: &TestApp, id: &str, lesson: u8) -> Option<RegistrationRecord> {
    app.store
        .student_registrations(&StudentId::parse(id).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date == date() && r.lesson == lesson)
}

/// A student of `class` without an open `contact` or `unexplained` signal
/// on the last evaluated day (so that a new one can be seen to appear).
fn quiet_student(app: &TestApp, class: &str) -> String {
    let live = app.state.read().unwrap();
    let d = live.through.unwrap();
    live.school
        .students()
        .iter()
        .zip(&live.evaluations)
        .find(|(s, ev)| {
            s.class == class
                && !ev.signals.iter().any(|sig| {
                    matches!(sig.rule, RuleId::Contact | RuleId::Unexplained)
                        && (sig.is_open_on(d) || sig.fired_on == d)
                })
        })
        .map(|(s, _)| s.id.to_string())
        .expect("a student without an unexplained signal today")
}

/// The value of the form field `name` in a page.
pub(crate) fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html.find(&marker)? + marker.len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The rows of a register form: (index, student, revision) in form order.
pub(crate) fn form_rows(html: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for i in 0.. {
        let Some(id) = field(html, &format!("r{i}_id")) else {
            break;
        };
        let version = field(html, &format!("r{i}_versie")).expect("every row has its revision");
        out.push((i, id, version));
    }
    out
}

/// The revision the register form `html` carries for `id`.
fn form_version(html: &str, id: &str) -> String {
    form_rows(html)
        .into_iter()
        .find(|(_, s, _)| s == id)
        .map(|(_, _, v)| v)
        .unwrap_or_else(|| panic!("{id} in the form"))
}

async fn post_form(
    app: &TestApp,
    c: &Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn mentor_registers_own_class_and_signals_update_at_once() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, html) = app.get(&c, "/registreren").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&app.mentor_class), "own class offered");
    assert!(html.contains("08:30"), "lesson start times shown");

    // The plain GET form leads to the register.
    let r = c
        .get(app.url(&format!(
            "/registreren?klas={}&datum={}&lesuur=1",
            seg(&app.mentor_class),
            date()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = format!("/registreren/{}/{}/1", seg(&app.mentor_class), date());
    assert_eq!(r.headers()["location"], path.as_str());

    let target = quiet_student(&app, &app.mentor_class);
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&target));
    // The codes are grouped by category, each label starting with its
    // meaning, so that typing "a" picks "aanwezig", not the code A.
    assert!(html.contains("onbekend afwezig (A)"), "codes labelled");
    assert!(
        html.contains("<optgroup label=\"Afwezig zonder afmelding\">"),
        "grouped"
    );
    assert!(html.contains("Wat betekenen de codes?"), "explained");

    let csrf = crate::common::csrf_in(&html).unwrap();
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &target),
            ("r0_code", "A"),
            ("r0_te_laat", ""),
            ("r0_versie", &form_version(&html, &target)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{path}/opgeslagen")),
        "{location}"
    );

    // Stored, with the mentor as author of the change.
    let rec = stored(&app, &target, 1).await.unwrap();
    assert_eq!(rec.code.as_deref(), Some("A"));
    assert_eq!(rec.category, Category::Unknown);

    // The signals updated in the same request.
    {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        let i = live.position(&target).unwrap();
        let fired = live.evaluations[i]
            .signals
            .iter()
            .any(|s| matches!(s.rule, RuleId::Contact | RuleId::Unexplained) && s.is_open_on(d));
        assert!(fired, "{:?}", live.evaluations[i].signals);
    }

    let (status, html) = app.get(&c, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("A — onbekend afwezig"), "{html}");
    assert!(html.contains(&format!("/leerlingen/{target}")));

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(StudentId::parse(&target).unwrap()),
            username: Some("mentor".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert!(
        log.iter().any(|e| e.action == AuditAction::Change),
        "{log:?}"
    );
}

#[tokio::test]
async fn mentor_cannot_register_another_class() {
    let app = spawn_app().await;
    let other_class = {
        let live = app.state.read().unwrap();
        let i = live.position(&app.other_student).unwrap();
        live.school.students()[i].class.clone()
    };
    let c = app.login("mentor").await;
    let (_, choose) = app.get(&c, "/registreren").await;
    assert!(
        !choose.contains(&format!("<option value=\"{other_class}\"")),
        "another class is not offered"
    );
    let path = format!("/registreren/{}/{}/1", seg(&other_class), date());
    let (status, _) = app.get(&c, &path).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    let csrf = crate::common::csrf_in(&choose).unwrap();
    let before = stored(&app, &app.other_student, 1).await;
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &app.other_student),
            ("r0_code", "A"),
        ],
    )
    .await;
    assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::FORBIDDEN);
    assert_eq!(stored(&app, &app.other_student, 1).await, before);

    // Nor one lesson of another class's student.
    let lesson = format!(
        "/leerlingen/{}/les?datum={}&lesuur=1",
        app.other_student,
        date()
    );
    assert_eq!(app.get(&c, &lesson).await.0, StatusCode::NOT_FOUND);

    // The beheerder registers nothing.
    let b = app.login("beheer").await;
    assert_eq!(app.get(&b, "/registreren").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invalid_row_saves_nothing() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let class = app.mentor_class.clone();
    let (a, b, rest) = {
        let live = app.state.read().unwrap();
        let mut ids = live
            .school
            .students()
            .iter()
            .filter(|s| s.class == class)
            .map(|s| s.id.to_string());
        (
            ids.next().unwrap(),
            ids.next().unwrap(),
            ids.collect::<Vec<_>>(),
        )
    };
    let path = format!("/registreren/{}/{}/2", seg(&class), date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();
    let (before_a, before_b) = (stored(&app, &a, 2).await, stored(&app, &b, 2).await);
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &a),
            ("r0_code", "S"),
            ("r0_te_laat", ""),
            ("r0_versie", &form_version(&html, &a)),
            ("r1_id", &b),
            ("r1_code", "L"),
            ("r1_te_laat", "500"),
            ("r1_versie", &form_version(&html, &b)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("minuten te laat moet tussen 1 en 50"),
        "{html}"
    );
    assert!(html.contains("niets opgeslagen"));
    assert!(!rest.is_empty());
    for id in &rest {
        assert!(
            html.contains(&format!("value=\"{id}\"")),
            "row of {id} shown again"
        );
    }
    assert_eq!(
        stored(&app, &a, 2).await,
        before_a,
        "the valid row was not saved either"
    );
    assert_eq!(stored(&app, &b, 2).await, before_b);

    // Minutes late on a code that is not late is refused too.
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &a),
            ("r0_code", "A"),
            ("r0_te_laat", "5"),
            ("r0_versie", &form_version(&html, &a)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&app, &a, 2).await, before_a);
}

#[tokio::test]
async fn correcting_a_lesson_keeps_its_history() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    let path = format!("/leerlingen/{id}/les?datum={}&lesuur=3", date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();

    // First unknown (nobody called in), then sick after a parent called.
    for code in ["A", "Z"] {
        let (_, form) = app.get(&c, &path).await;
        let r = post_form(
            &app,
            &c,
            &path,
            &[
                ("csrf", &csrf),
                ("code", code),
                ("te_laat", ""),
                ("notitie", ""),
                ("versie", &field(&form, "versie").unwrap()),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{code}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(
            location,
            format!("/leerlingen/{id}?week={d}&gecorrigeerd={d}~3", d = date())
        );
        // The student page confirms the saved correction.
        let (_, page) = app.get(&c, &location).await;
        assert!(
            page.contains(&format!(
                "<p class=\"success\" role=\"status\">De correctie is opgeslagen: {}, lesuur 3.",
                aanwezig_domain::explain::date_nl(date())
            )),
            "{page}"
        );
    }
    let rec = stored(&app, &id, 3).await.unwrap();
    assert_eq!(rec.category, Category::ReportedSick);
    let history = app
        .store
        .registration_history(&StudentId::parse(&id).unwrap())
        .await
        .unwrap();
    let unknown = history
        .iter()
        .find(|h| h.old.date == date() && h.old.lesson == 3 && h.old.code.as_deref() == Some("A"))
        .expect("the unknown state is in the history");
    assert_eq!(unknown.old.category, Category::Unknown);
    assert_eq!(unknown.replaced.by, "coordinator");
    assert_eq!(unknown.set.by, "coordinator");

    let (_, html) = app.get(&c, &path).await;
    assert!(html.contains("A — onbekend afwezig"), "history shown");
    assert!(html.contains("Z — ziek gemeld"));
}

#[tokio::test]
async fn a_note_on_a_sick_report_is_refused() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let id = app.own_student.clone();
    let path = format!("/leerlingen/{id}/les?datum={}&lesuur=4", date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();
    let before = stored(&app, &id, 4).await;
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("code", "Z"),
            ("te_laat", ""),
            ("notitie", "heeft griep"),
            ("versie", &field(&html, "versie").unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("aard van een ziekte"), "{html}");
    assert_eq!(stored(&app, &id, 4).await, before, "nothing stored");

    // A note on another code is fine.
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("code", "O"),
            ("te_laat", ""),
            ("notitie", "moeder belde om 8:05"),
            ("versie", &field(&html, "versie").unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rec = stored(&app, &id, 4).await.unwrap();
    assert_eq!(rec.note.as_deref(), Some("moeder belde om 8:05"));
}

#[tokio::test]
async fn a_register_needs_a_school_day_and_a_scheduled_lesson() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let class = seg(&app.mentor_class);
    let (status, html) = app
        .get(&c, &format!("/registreren/{class}/2025-11-15/1"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("weekend"), "{html}");
    let (status, html) = app
        .get(&c, &format!("/registreren/{class}/2025-11-14/9"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("lesuur 9 staat niet in het lesrooster"),
        "{html}"
    );
    // The choice form says so too, and stays on the form.
    let (status, html) = app
        .get(
            &c,
            &format!("/registreren?klas={class}&datum=2025-10-21&lesuur=1"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.to_lowercase().contains("vakantie"), "{html}");
    // In an error summary whose message links to the date field.
    assert!(
        html.contains("<div class=\"error-summary\" role=\"alert\"")
            && html.contains("<li><a href=\"#datum\">"),
        "{html}"
    );
    // Without a choice yet, a day without lessons is a notice, not an error.
    let (status, html) = app.get(&c, "/registreren?datum=2025-11-16").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("geen lessen"), "{html}");
}

// --- two people saving the same lessons ----------------------------------

/// A full register submission: every row of the form `html` set to `code`,
/// with the revisions the form carries.
fn whole_class(html: &str, code: &str) -> Vec<(String, String)> {
    let mut f = vec![("csrf".to_owned(), crate::common::csrf_in(html).unwrap())];
    for (i, id, version) in form_rows(html) {
        f.push((format!("r{i}_id"), id));
        f.push((format!("r{i}_code"), code.to_owned()));
        f.push((format!("r{i}_te_laat"), String::new()));
        f.push((format!("r{i}_versie"), version));
    }
    f
}

/// A register submission that changes only the first row to `code` and
/// sends every other row as the form showed it (`shown`, in form order).
fn one_row(html: &str, shown: &[String], code: &str) -> Vec<(String, String)> {
    let mut f = whole_class(html, code);
    for (i, token) in shown.iter().enumerate().skip(1) {
        if let Some(field) = f.iter_mut().find(|(k, _)| *k == format!("r{i}_code")) {
            field.1 = token.clone();
        }
    }
    f
}

/// Codes of the Magister policy that need no minutes late.
const CODES: [&str; 14] = [
    "A", "AA", "S", "Z", "ZH", "M", "O", "U", "BV", "HV", "GE", "GI", "V", "VR",
];

/// The form value a stored state shows as: its code, or `aanwezig`.
fn token(rec: &Option<RegistrationRecord>) -> String {
    match rec {
        Some(r) => r.code.clone().unwrap_or_else(|| match r.category {
            Category::Present => "aanwezig".to_owned(),
            other => format!("categorie:{}", other.as_str()),
        }),
        None => "-".to_owned(),
    }
}

/// The stored tokens of lesson `lesson` today for `ids`.
async fn tokens(app: &TestApp, ids: &[String], lesson: u8) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(token(&stored(app, id, lesson).await));
    }
    out
}

/// History entries of today's `lesson` of `id` replaced by `user`.
async fn changes_by(app: &TestApp, id: &str, lesson: u8, user: &str) -> usize {
    app.store
        .registration_history(&StudentId::parse(id).unwrap())
        .await
        .unwrap()
        .iter()
        .filter(|h| h.old.date == date() && h.old.lesson == lesson && h.replaced.by == user)
        .count()
}

const CHANGED_BY_COORDINATOR: &str =
    "nu staat er ‘A — onbekend afwezig’ (gewijzigd door coordinator op 14 nov 2025 10:00)";

#[tokio::test]
async fn the_second_of_two_saves_of_one_register_is_refused_and_names_the_change() {
    let app = spawn_app().await;
    let first = app.login("coordinator").await;
    let second = app.login("zorg").await;
    let lesson = 5;
    let path = format!(
        "/registreren/{}/{}/{lesson}",
        seg(&app.mentor_class),
        date()
    );
    // Both open the register.
    let (_, form_first) = app.get(&first, &path).await;
    let (_, form_second) = app.get(&second, &path).await;
    let ids: Vec<String> = form_rows(&form_first)
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    assert!(ids.len() >= 3, "{ids:?}");
    let before = tokens(&app, &ids, lesson).await;
    assert!(before.iter().all(|t| t != "Z"), "{before:?}");

    // The first saves everyone absent, the second everyone sick.
    let r = post_form(
        &app,
        &first,
        &path,
        &as_refs(&whole_class(&form_first, "A")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_form(
        &app,
        &second,
        &path,
        &as_refs(&whole_class(&form_second, "Z")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("Er is niets opgeslagen"), "{html}");
    let changed: Vec<(&String, &String)> =
        ids.iter().zip(&before).filter(|(_, t)| *t != "A").collect();
    assert!(!changed.is_empty());
    for (id, was) in &changed {
        let sentence = format!("({id}), vrijdag 14 november 2025 lesuur {lesson}: toen u de gegevens opende stond er ‘");
        assert!(html.contains(&sentence), "{sentence} in {html}");
        if *was == "aanwezig" {
            assert!(
                html.contains(&format!("{sentence}aanwezig’, {CHANGED_BY_COORDINATOR}")),
                "{html}"
            );
        }
    }
    assert_eq!(html.matches(CHANGED_BY_COORDINATOR).count(), changed.len());

    // Stored: exactly the first user's save, nothing of the second's.
    assert_eq!(
        tokens(&app, &ids, lesson).await,
        vec!["A".to_owned(); ids.len()]
    );
    for id in &ids {
        assert_eq!(changes_by(&app, id, lesson, "zorg").await, 0, "{id}");
    }

    // The page shows the state of now, with fresh revisions: redone from
    // there, the second user's save goes through.
    assert_eq!(
        html.matches("<option value=\"A\" selected>").count(),
        ids.len(),
        "every row shows the stored A"
    );
    let r = post_form(&app, &second, &path, &as_refs(&whole_class(&html, "Z"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        tokens(&app, &ids, lesson).await,
        vec!["Z".to_owned(); ids.len()]
    );
}

/// Form fields as the `post_form` helper takes them.
fn as_refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn a_register_refused_for_one_changed_lesson_keeps_the_other_choices() {
    let app = spawn_app().await;
    let teacher = app.login("mentor").await;
    let coordinator = app.login("coordinator").await;
    let lesson = 6;
    let path = format!(
        "/registreren/{}/{}/{lesson}",
        seg(&app.mentor_class),
        date()
    );
    let (_, form) = app.get(&teacher, &path).await;
    let ids: Vec<String> = form_rows(&form).into_iter().map(|(_, id, _)| id).collect();
    let target = ids[1].clone();

    // Meanwhile the coordinator corrects one lesson of the class.
    let lesson_path = format!("/leerlingen/{target}/les?datum={}&lesuur={lesson}", date());
    let (_, lesson_form) = app.get(&coordinator, &lesson_path).await;
    let r = post_form(
        &app,
        &coordinator,
        &lesson_path,
        &[
            ("csrf", &crate::common::csrf_in(&lesson_form).unwrap()),
            ("code", "A"),
            ("te_laat", ""),
            ("notitie", ""),
            ("versie", &field(&lesson_form, "versie").unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after_correction = tokens(&app, &ids, lesson).await;

    let r = post_form(&app, &teacher, &path, &as_refs(&whole_class(&form, "Z"))).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("één les is door iemand anders gewijzigd"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "({target}), vrijdag 14 november 2025 lesuur {lesson}"
        )),
        "{html}"
    );
    assert_eq!(html.matches(CHANGED_BY_COORDINATOR).count(), 1);
    assert_eq!(
        tokens(&app, &ids, lesson).await,
        after_correction,
        "nothing written"
    );
    // The changed row shows the new state; the others keep the choice Z.
    assert_eq!(
        html.matches("<option value=\"Z\" selected>").count(),
        ids.len() - 1
    );
    assert_eq!(html.matches("class=\"row-error\"").count(), 1);
}

#[tokio::test]
async fn the_second_of_two_corrections_of_one_lesson_is_refused_and_names_the_change() {
    let app = spawn_app().await;
    let first = app.login("coordinator").await;
    let second = app.login("mentor").await;
    let id = app.own_student.clone();
    let path = format!("/leerlingen/{id}/les?datum={}&lesuur=7", date());
    let (_, form_first) = app.get(&first, &path).await;
    let (_, form_second) = app.get(&second, &path).await;
    let before = stored(&app, &id, 7).await;
    assert_ne!(token(&before), "A");
    let send = |form: &str, code: &'static str| {
        vec![
            ("csrf".to_owned(), crate::common::csrf_in(form).unwrap()),
            ("code".to_owned(), code.to_owned()),
            ("te_laat".to_owned(), String::new()),
            ("notitie".to_owned(), String::new()),
            ("versie".to_owned(), field(form, "versie").unwrap()),
        ]
    };
    let r = post_form(&app, &first, &path, &as_refs(&send(&form_first, "A"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let saved = stored(&app, &id, 7).await;

    let r = post_form(&app, &second, &path, &as_refs(&send(&form_second, "Z"))).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("Er is niets opgeslagen"), "{html}");
    assert!(
        html.contains(&format!(
            "({id}), vrijdag 14 november 2025 lesuur 7: toen u de gegevens opende stond er ‘"
        )),
        "{html}"
    );
    assert!(html.contains(CHANGED_BY_COORDINATOR), "{html}");
    assert!(html.contains("Uw keuze was ‘Z — ziek gemeld’"), "{html}");
    assert_eq!(
        stored(&app, &id, 7).await,
        saved,
        "exactly the first correction"
    );
    assert_eq!(changes_by(&app, &id, 7, "mentor").await, 0);

    // The form now carries the current state and revision: redone, it saves.
    assert!(html.contains("<option value=\"A\" selected>"), "{html}");
    let r = post_form(&app, &second, &path, &as_refs(&send(&html, "Z"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(token(&stored(&app, &id, 7).await), "Z");

    // A form without its revision is refused, not saved as last write wins.
    let mut old = send(&html, "O");
    old.retain(|(k, _)| k != "versie");
    let r = post_form(&app, &second, &path, &as_refs(&old)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(token(&stored(&app, &id, 7).await), "Z");
}

/// Many rounds of two people saving the same register at the same moment,
/// from two tasks over HTTP: every round ends with exactly one person's
/// whole register stored, and the other told that nothing was saved. In
/// even rounds both set the whole class to a code; in odd rounds the
/// second changes one student and leaves the rest as the form showed them
/// (the case that used to leave a mix, e.g. 27 × A and 1 × Z).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_register_saves_never_mix() {
    const ROUNDS: usize = 100;
    let app = spawn_app().await;
    let users = [app.login("coordinator").await, app.login("zorg").await];
    let lesson = 4;
    let path = format!(
        "/registreren/{}/{}/{lesson}",
        seg(&app.mentor_class),
        date()
    );
    let url = app.url(&path);
    let mut wins = [0usize; 2];
    for round in 0..ROUNDS {
        let (_, form0) = app.get(&users[0], &path).await;
        let (_, form1) = app.get(&users[1], &path).await;
        let ids: Vec<String> = form_rows(&form0).into_iter().map(|(_, id, _)| id).collect();
        // What both forms show, and two codes that differ from each other
        // and from every stored state.
        let shown = tokens(&app, &ids, lesson).await;
        let mut free = CODES.iter().filter(|c| !shown.iter().any(|t| t == *c));
        let (x, y) = (*free.next().unwrap(), *free.next().unwrap());
        let mut expected = [vec![x.to_owned(); ids.len()], vec![y.to_owned(); ids.len()]];
        let bodies = if round % 2 == 0 {
            [whole_class(&form0, x), whole_class(&form1, y)]
        } else {
            expected[1] = shown.clone();
            expected[1][0] = y.to_owned();
            [whole_class(&form0, x), one_row(&form1, &shown, y)]
        };
        let tasks: Vec<_> = bodies
            .into_iter()
            .zip(users.iter().cloned())
            .map(|(body, client)| {
                let url = url.clone();
                tokio::spawn(async move {
                    let r = client.post(&url).form(&body).send().await.unwrap();
                    (r.status(), r.text().await.unwrap())
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let statuses: Vec<StatusCode> = outcomes.iter().map(|o| o.0).collect();
        let saved: Vec<usize> = (0..2)
            .filter(|i| statuses[*i] == StatusCode::SEE_OTHER)
            .collect();
        assert_eq!(
            saved.len(),
            1,
            "round {round}: exactly one save: {statuses:?}"
        );
        let (winner, loser) = (saved[0], 1 - saved[0]);
        assert_eq!(statuses[loser], StatusCode::CONFLICT, "round {round}");
        assert!(
            outcomes[loser].1.contains("Er is niets opgeslagen"),
            "round {round}: the refusal says so"
        );
        assert_eq!(
            tokens(&app, &ids, lesson).await,
            expected[winner],
            "round {round}: exactly the winner's register, no mix"
        );
        wins[winner] += 1;
    }
    assert_eq!(wins.iter().sum::<usize>(), ROUNDS);
    eprintln!("simultaneous saves: {ROUNDS} rounds, wins per user {wins:?}");

    // The live school (what the signals are computed from) agrees with the
    // store: every round's winner, and only the winner, was applied.
    let ids: Vec<String> = {
        let (_, form) = app.get(&users[0], &path).await;
        form_rows(&form).into_iter().map(|(_, id, _)| id).collect()
    };
    let mut in_store = Vec::new();
    for id in &ids {
        in_store.push(stored(&app, id, lesson).await.map(|r| r.category));
    }
    let live = app.state.read().unwrap();
    let d = live.cal.as_ref().unwrap().index(date()).unwrap();
    let in_memory: Vec<Option<Category>> = ids
        .iter()
        .map(|id| {
            let i = live.position(id).unwrap();
            live.school
                .registrations(i)
                .iter()
                .find(|r| r.day == d && r.lesson == lesson)
                .map(|r| r.category)
        })
        .collect();
    assert_eq!(in_memory, in_store);
}
