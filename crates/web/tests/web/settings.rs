//! Instellingen: calendar, policy and codes, by the beheerder only.

use aanwezig_domain::{Category, Hours};
use aanwezig_storage::{AuditAction, AuditFilter, DocumentKind};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};

use crate::common::{csrf_in, spawn_app, TestApp};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn repo_file(p: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(p),
    )
    .unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let rest = &tag[i..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// The fields a browser would submit for the form with this `action`:
/// inputs (checked boxes only), selects (the selected option) and
/// textareas, in page order.
pub fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form {action}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attr(tag, "name") {
                let value = attr(tag, "value").unwrap_or_default();
                match kind.as_str() {
                    "checkbox" | "radio" if !tag.contains(" checked") => {}
                    "file" | "submit" => {}
                    _ => out.push((name, value)),
                }
            }
        } else if tag.starts_with("<select") {
            let name = attr(tag, "name").unwrap();
            let body = &rest[..rest.find("</select>").unwrap()];
            let options: Vec<&str> = body.split("<option").skip(1).collect();
            let chosen = options
                .iter()
                .find(|o| o[..o.find('>').unwrap()].contains(" selected"))
                .or(options.first())
                .unwrap();
            out.push((name, attr(chosen, "value").unwrap()));
        } else if tag.starts_with("<textarea") {
            let name = attr(tag, "name").unwrap();
            let body = &rest[end + 1..];
            out.push((name, unescape(&body[..body.find("</textarea>").unwrap()])));
        }
        rest = &rest[1..];
    }
    out
}

/// Replaces (or adds) one field.
pub fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
}

/// The CSRF token of a signed-in beheerder (from a page it may see).
pub async fn admin_csrf(app: &TestApp, c: &Client) -> String {
    let (_, html) = app.get(c, "/instellingen").await;
    csrf_in(&html).unwrap()
}

pub async fn post_form(
    app: &TestApp,
    c: &Client,
    path: &str,
    fields: &[(String, String)],
) -> (StatusCode, String, Option<String>) {
    let r = c.post(app.url(path)).form(fields).send().await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.text().await.unwrap(), location)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A multipart upload of one file plus text fields, built by hand.
async fn upload(
    app: &TestApp,
    c: &Client,
    path: &str,
    csrf: &str,
    file_name: &str,
    content: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let boundary = "----aanwezigtestgrens";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ));
    let r = c
        .post(app.url(&format!("{path}?csrf={csrf}")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn versions(app: &TestApp, kind: DocumentKind) -> usize {
    app.store.document_versions(kind).await.unwrap().len()
}

#[tokio::test]
async fn beheerder_adds_and_removes_a_free_day() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/instellingen/kalender").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Schooljaar 2025-2026"), "{html}");
    assert!(html.contains("herfstvakantie"));
    assert!(
        html.contains("<strong class=\"unconfirmed\">nee</strong>"),
        "the zomervakantie is unconfirmed"
    );

    let before = versions(&app, DocumentKind::Calendar).await;
    let day = ymd(2025, 12, 8);
    assert!(app
        .state
        .read()
        .unwrap()
        .cal
        .as_ref()
        .unwrap()
        .is_school_day(day));
    let csrf = admin_csrf(&app, &c).await;
    let (status, _, location) = post_form(
        &app,
        &c,
        "/instellingen/kalender/vrije-dag",
        &pairs(&[
            ("csrf", &csrf),
            ("jaar", "2025-2026"),
            ("naam", "Extra studiedag"),
            ("soort", "studiedag"),
            ("eerste", "2025-12-08"),
            ("laatste", "2025-12-08"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some("/instellingen/kalender?opgeslagen=1")
    );
    assert_eq!(versions(&app, DocumentKind::Calendar).await, before + 1);
    assert!(
        !app.state
            .read()
            .unwrap()
            .cal
            .as_ref()
            .unwrap()
            .is_school_day(day),
        "the live calendar has the new free day"
    );
    let (_, html) = app.get(&c, "/instellingen/kalender?opgeslagen=1").await;
    assert!(html.contains("Extra studiedag"));
    assert!(html.contains("opgeslagen als nieuwe versie"));

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("beheer".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::Settings && e.detail.contains("Extra studiedag")));

    // Remove it again with the form on the page.
    let years = app.store.calendar().await.unwrap().unwrap();
    let index = years[0]
        .free_days
        .iter()
        .position(|f| f.name == "Extra studiedag")
        .unwrap();
    let (status, _, _) = post_form(
        &app,
        &c,
        "/instellingen/kalender/vrije-dag/verwijderen",
        &pairs(&[
            ("csrf", &csrf),
            ("jaar", "2025-2026"),
            ("index", &index.to_string()),
            ("naam", "Extra studiedag"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(versions(&app, DocumentKind::Calendar).await, before + 2);
    assert!(app
        .state
        .read()
        .unwrap()
        .cal
        .as_ref()
        .unwrap()
        .is_school_day(day));
}

#[tokio::test]
async fn invalid_free_days_are_refused_in_dutch() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let csrf = admin_csrf(&app, &c).await;
    let before = versions(&app, DocumentKind::Calendar).await;
    let (status, html, _) = post_form(
        &app,
        &c,
        "/instellingen/kalender/vrije-dag",
        &pairs(&[
            ("csrf", &csrf),
            ("jaar", "2025-2026"),
            ("naam", "Achterstevoren"),
            ("soort", "studiedag"),
            ("eerste", "2025-12-10"),
            ("laatste", "2025-12-08"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("De laatste dag (maandag 8 december 2025) ligt vóór de eerste dag"),
        "{html}"
    );
    assert!(
        html.contains("<li><a href=\"#vd-naam\">De laatste dag (maandag 8 december 2025)"),
        "the error summary links to the form: {html}"
    );
    assert!(
        html.contains("value=\"Achterstevoren\""),
        "the form keeps its input"
    );

    // A day that already has registrations cannot become free.
    let (status, html, _) = post_form(
        &app,
        &c,
        "/instellingen/kalender/vrije-dag",
        &pairs(&[
            ("csrf", &csrf),
            ("jaar", "2025-2026"),
            ("naam", "Te laat bedacht"),
            ("soort", "studiedag"),
            ("eerste", "2025-11-10"),
            ("laatste", "2025-11-10"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("al lessen geregistreerd"), "{html}");
    assert_eq!(versions(&app, DocumentKind::Calendar).await, before);
}

#[tokio::test]
async fn the_lesson_schedule_is_edited_and_checked() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (_, html) = app.get(&c, "/instellingen/kalender").await;
    let mut fields = form_fields(&html, "/instellingen/kalender/schooljaar");
    set(&mut fields, "lesrooster", "1 50 08:30\n2 vijftig");
    let (status, html, _) = post_form(&app, &c, "/instellingen/kalender/schooljaar", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Regel 2 van het lesrooster"), "{html}");

    set(&mut fields, "lesrooster", "1 60 08:30\n2 60\n3 100 10:30");
    let (status, _, _) = post_form(&app, &c, "/instellingen/kalender/schooljaar", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let years = app.store.calendar().await.unwrap().unwrap();
    assert_eq!(years[0].lessons.len(), 3);
    assert_eq!(years[0].lessons[2].minutes, 100);
}

#[tokio::test]
async fn rijksoverheid_holidays_are_merged() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let csrf = admin_csrf(&app, &c).await;
    // Take the herfstvakantie out first, so that the import has work to do.
    let years = app.store.calendar().await.unwrap().unwrap();
    let index = years[0]
        .free_days
        .iter()
        .position(|f| f.name == "herfstvakantie")
        .unwrap();
    let (status, _, _) = post_form(
        &app,
        &c,
        "/instellingen/kalender/vrije-dag/verwijderen",
        &pairs(&[
            ("csrf", &csrf),
            ("jaar", "2025-2026"),
            ("index", &index.to_string()),
            ("naam", "herfstvakantie"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let autumn = ymd(2025, 10, 20);
    assert!(app
        .state
        .read()
        .unwrap()
        .cal
        .as_ref()
        .unwrap()
        .is_school_day(autumn));
    let before = versions(&app, DocumentKind::Calendar).await;

    let json = repo_file("data/rijksoverheid/schoolvakanties-2025-2026.json");
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/kalender/rijksoverheid",
        &csrf,
        "schoolvakanties-2025-2026.json",
        &json,
        &[("regio", "noord")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(versions(&app, DocumentKind::Calendar).await, before + 1);
    {
        let live = app.state.read().unwrap();
        let cal = live.cal.as_ref().unwrap();
        assert!(!cal.is_school_day(autumn), "the herfstvakantie is back");
        // The file has one nationwide week of meivakantie; the shipped
        // calendar had two: the holidays were replaced, not added.
        assert!(cal.is_school_day(ymd(2026, 4, 20)));
        assert!(!cal.is_school_day(ymd(2026, 4, 28)));
        // Public holidays and the school's own days stay.
        assert!(!cal.is_school_day(ymd(2025, 11, 24)), "studiedag stays");
    }

    // Region zuid would turn days with registrations into holidays.
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/kalender/rijksoverheid",
        &csrf,
        "schoolvakanties-2025-2026.json",
        &json,
        &[("regio", "zuid")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("al lessen geregistreerd"), "{html}");
    // Not JSON at all.
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/kalender/rijksoverheid",
        &csrf,
        "kapot.json",
        "{ niet goed",
        &[("regio", "noord")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("ongeldige JSON"), "{html}");
}

#[tokio::test]
async fn a_calendar_file_replaces_the_calendar() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let csrf = admin_csrf(&app, &c).await;
    let toml = repo_file("data/calendars/2025-2026-noord.toml");
    let extra = "\n[[school_year.free_days]]\nname = \"sportdag\"\nkind = \"studiedag\"\nfirst = 2026-06-01\nlast = 2026-06-01\n";
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/kalender/bestand",
        &csrf,
        "kalender.toml",
        &format!("{toml}{extra}"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(!app
        .state
        .read()
        .unwrap()
        .cal
        .as_ref()
        .unwrap()
        .is_school_day(ymd(2026, 6, 1)));
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/kalender/bestand",
        &csrf,
        "kapot.toml",
        "[[school_year]]\nname = 1",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("kapot.toml"), "{html}");
}

#[tokio::test]
async fn policy_changes_are_validated_saved_and_live() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/instellingen/beleid").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Standaard: 16."), "defaults are shown");
    let before = versions(&app, DocumentKind::Policy).await;
    let mut fields = form_fields(&html, "/instellingen/beleid");
    assert!(fields.iter().any(|(k, _)| k == "duo_16h.hours"));

    set(&mut fields, "duo_16h.hours", "20");
    let (status, _, location) = post_form(&app, &c, "/instellingen/beleid", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some("/instellingen/beleid?opgeslagen=1")
    );
    assert_eq!(versions(&app, DocumentKind::Policy).await, before + 1);
    let stored = app.store.policy().await.unwrap().unwrap();
    assert_eq!(stored.duo_16h.hours, Hours::from_hours(20));
    assert_eq!(stored.codes.len(), 16, "the codes stay");
    {
        let live = app.state.read().unwrap();
        assert_eq!(live.policy.duo_16h.hours, Hours::from_hours(20));
        assert_eq!(live.policy, stored);
    }

    // Zero weeks is refused: the summary at the top names the field in
    // Dutch and links to it; the message stands at the field too.
    set(&mut fields, "duo_16h.window_weeks", "0");
    let (status, html, _) = post_form(&app, &c, "/instellingen/beleid", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(
            "<a href=\"#f-duo-16h-window-weeks\">Stap 4b: de 16-urenregel (DUO-melding): Binnen (lesweken)</a>: \
             moet tussen 1 en 60 lesweken liggen, niet 0"
        ),
        "{html}"
    );
    assert!(
        html.contains("<p class=\"error\">moet tussen 1 en 60 lesweken liggen, niet 0</p>"),
        "{html}"
    );
    assert!(
        !html.contains("<code>duo_16h.window_weeks</code>:"),
        "no raw key as a message's name"
    );
    assert!(html.contains("value=\"0\""), "the typed value is kept");
    assert_eq!(versions(&app, DocumentKind::Policy).await, before + 1);
    assert_eq!(app.state.read().unwrap().policy.duo_16h.window_weeks, 4);

    // Not a number.
    set(&mut fields, "duo_16h.window_weeks", "vier");
    let (status, html, _) = post_form(&app, &c, "/instellingen/beleid", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("geen geheel getal"), "{html}");

    // A category set that may not be empty.
    set(&mut fields, "duo_16h.window_weeks", "4");
    fields.retain(|(k, _)| k != "afmelding_categories");
    let (status, html, _) = post_form(&app, &c, "/instellingen/beleid", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("afmelding_categories"), "{html}");
}

#[tokio::test]
async fn policy_as_toml_download_and_upload() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let r = c
        .get(app.url("/instellingen/beleid/beleid.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("beleid.toml"));
    let toml = r.text().await.unwrap();
    let parsed = aanwezig_import::parse_policy(&toml, "beleid.toml").unwrap();
    assert_eq!(parsed, app.state.read().unwrap().policy);

    let csrf = admin_csrf(&app, &c).await;
    let changed = toml.replace("min_episodes = 4", "min_episodes = 5");
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/beleid/bestand",
        &csrf,
        "eigen.toml",
        &changed,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        app.state
            .read()
            .unwrap()
            .policy
            .afmelding_count
            .min_episodes,
        5
    );
    let bad = toml.replace("min_episodes = 4", "min_episodes = 0");
    let (status, html) = upload(
        &app,
        &c,
        "/instellingen/beleid/bestand",
        &csrf,
        "fout.toml",
        &bad,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("afmelding_count.min_episodes"), "{html}");
}

#[tokio::test]
async fn codes_are_added_changed_removed_and_loaded() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/instellingen/codes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<code>ZH</code>"), "{html}");
    let csrf = admin_csrf(&app, &c).await;
    let post = |path: &'static str, list: Vec<(&'static str, String)>| {
        let fields: Vec<(String, String)> = std::iter::once(("csrf".to_owned(), csrf.clone()))
            .chain(list.into_iter().map(|(k, v)| (k.to_owned(), v)))
            .collect();
        let app = &app;
        let c = &c;
        async move { post_form(app, c, path, &fields).await }
    };

    let (status, _, _) = post(
        "/instellingen/codes",
        vec![("code", "ZX".into()), ("categorie", "reported_sick".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.state.read().unwrap().policy.category_of("ZX"),
        Some(Category::ReportedSick),
        "the live policy uses the new code"
    );
    let (status, html, _) = post(
        "/instellingen/codes",
        vec![("code", "ZX".into()), ("categorie", "unknown".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Code ZX bestaat al"), "{html}");
    assert!(
        html.contains("<li><a href=\"#nieuw-code\">Code ZX bestaat al"),
        "the error summary links to the field: {html}"
    );
    let (status, html, _) = post(
        "/instellingen/codes",
        vec![("code", "Z X".into()), ("categorie", "unknown".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("zonder spaties"), "{html}");

    let (status, _, _) = post(
        "/instellingen/codes/wijzigen",
        vec![("code", "ZX".into()), ("categorie", "unauthorized".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.state.read().unwrap().policy.category_of("ZX"),
        Some(Category::Unauthorized)
    );
    let (status, _, _) = post(
        "/instellingen/codes/verwijderen",
        vec![("code", "ZX".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.state.read().unwrap().policy.category_of("ZX"), None);

    let (status, _, _) = post(
        "/instellingen/codes/voorinstelling",
        vec![("naam", "somtoday".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    {
        let live = app.state.read().unwrap();
        assert_eq!(live.policy.category_of("ZK"), Some(Category::ReportedSick));
        assert_eq!(
            live.policy.category_of("ZH"),
            None,
            "Magister's codes are gone"
        );
    }
    let stored = app.store.policy().await.unwrap().unwrap();
    assert_eq!(stored.category_of("TL"), Some(Category::LateUnexcused));
}

#[tokio::test]
async fn only_the_beheerder_sees_settings_and_users() {
    let app = spawn_app().await;
    let pages = [
        "/instellingen",
        "/instellingen/kalender",
        "/instellingen/beleid",
        "/instellingen/beleid/beleid.toml",
        "/instellingen/codes",
        "/gebruikers",
        "/gebruikers/nieuw",
        "/gebruikers/mentor",
    ];
    let posts = [
        "/instellingen/kalender/vrije-dag",
        "/instellingen/beleid",
        "/instellingen/codes",
        "/instellingen/codes/voorinstelling",
        "/gebruikers/nieuw",
        "/gebruikers/mentor",
        "/gebruikers/mentor/wachtwoord",
    ];
    for who in [
        "coordinator",
        "zorg",
        "mentor",
        "leerplicht",
        "jeugdarts",
        "keten",
    ] {
        let c = app.login(who).await;
        for p in pages {
            assert_eq!(
                app.get(&c, p).await.0,
                StatusCode::FORBIDDEN,
                "{who} GET {p}"
            );
        }
        let (_, html) = app.get(&c, "/stappenplan").await;
        let csrf = csrf_in(&html).unwrap();
        for p in posts {
            let r = c
                .post(app.url(p))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("code", "Q"),
                    ("categorie", "unknown"),
                    ("naam", "magister"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} POST {p}");
        }
    }
    assert_eq!(app.state.read().unwrap().policy.category_of("Q"), None);
    let c = app.login("beheer").await;
    for p in pages {
        assert_eq!(app.get(&c, p).await.0, StatusCode::OK, "beheer GET {p}");
    }
}

/// A fresh installation: no calendar, no policy, no students; only a
/// beheerder. The calendar page explains what to do, and uploading a
/// calendar file brings the school to life.
#[tokio::test]
async fn a_fresh_install_starts_with_a_calendar_upload() {
    use std::sync::Arc;

    use aanwezig_storage::User;
    use aanwezig_web::{AppState, Config, FixedClock};

    let (store, _database) = crate::common::empty_store().await;
    store
        .create_user(&User {
            username: "beheer".into(),
            display_name: "Beheer".into(),
            role: aanwezig_domain::Role::Beheerder,
            classes: vec![],
            email: None,
            active: true,
            password_hash: aanwezig_auth::hash_password(crate::common::PASSWORD).unwrap(),
            created_at: crate::common::now(),
            account_id: String::new(),
        })
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::new(
        crate::common::now(),
        crate::common::today(),
    ));
    let state = AppState::new(store.clone(), clock, Config::default())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aanwezig_web::serve(listener, state.clone()));
    let url = |p: &str| format!("http://{addr}{p}");
    let c = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .post(url("/inloggen"))
        .form(&[
            ("gebruikersnaam", "beheer"),
            ("wachtwoord", crate::common::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    for page in [
        "/instellingen",
        "/instellingen/beleid",
        "/instellingen/codes",
        "/stappenplan",
    ] {
        let r = c.get(url(page)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
    }
    let html = c
        .get(url("/instellingen/kalender"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Er is nog geen kalender"), "{html}");
    assert!(
        !html.contains("/instellingen/kalender/rijksoverheid"),
        "holidays need a school year first"
    );
    let csrf = csrf_in(&html).unwrap();

    let boundary = "----leeg";
    let toml = repo_file("data/calendars/2025-2026-noord.toml");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"k.toml\"\r\n\r\n{toml}\r\n--{boundary}--\r\n"
    );
    let r = c
        .post(url(&format!("/instellingen/kalender/bestand?csrf={csrf}")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(state
        .read()
        .unwrap()
        .cal
        .as_ref()
        .unwrap()
        .is_school_day(ymd(2025, 11, 14)));
    assert_eq!(
        store
            .document_versions(DocumentKind::Calendar)
            .await
            .unwrap()
            .len(),
        1
    );
}
