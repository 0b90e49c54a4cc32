//! The authorization matrix: every route × every role, with the status each
//! must get. One table, read row by row; a failing run lists every cell
//! that differs, not only the first.
//!
//! Roles (columns): not signed in, beheerder, verzuimcoördinator,
//! ondersteuningscoördinator, mentor (of the class of `{own}`), and the
//! external partners leerplichtambtenaar, jeugdarts and ketenpartner.
//!
//! The rules behind the table:
//! - Not signed in: pages redirect to `/inloggen` (303), the API says 401.
//! - The beheerder manages users, calendar, policy, codes and imports and
//!   reads no student data (403).
//! - The coordinators see every student; only the beheerder manages
//!   settings and users; the verzuimcoördinator also imports.
//! - A mentor sees the own class; a student or class outside it answers
//!   404, so that its existence does not leak.
//! - External partners see only the students whose open case they are
//!   brought into (the leerplichtambtenaar also those with a sent DUO
//!   melding): the fixture brings the jeugdarts and the ketenpartner into
//!   `{own}`'s case, nobody into `{other}`'s. Lists, registering and the
//!   API are the school's (403); a student outside their scope answers 404
//!   like any student outside a user's scope.
//! - Everyone signed in reaches the weekly overview (a role without
//!   student data sees a page pointing to its own work), the plan and the
//!   glossary.
//! - Every state-changing request needs the session's CSRF token (403
//!   without it), and a role that may not make the change is refused (403)
//!   before its form or upload is read: an empty form from a mentor to a
//!   settings page is a 403, not a 422.
//! - Signing out is the last row: it ends every column's session.

use std::fmt;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, USERS};

/// What a cell expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// This status.
    Is(u16),
    /// 303 to the sign-in page.
    Login,
    /// 303 somewhere else (post/redirect/get after a save).
    Saved,
    /// Not refused: anything but 401, 403, 404 or a redirect to sign in.
    /// For a permitted role sending an empty form, whose answer (saved,
    /// 422, 400) is the page's business, not the matrix's.
    Allowed,
}

pub(crate) const O: Want = Want::Is(200);
pub(crate) const U: Want = Want::Is(401);
pub(crate) const F: Want = Want::Is(403);
pub(crate) const N: Want = Want::Is(404);
pub(crate) const L: Want = Want::Login;
pub(crate) const S: Want = Want::Saved;
pub(crate) const A: Want = Want::Allowed;

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Is(s) => write!(f, "{s}"),
            Want::Login => f.write_str("303 → /inloggen"),
            Want::Saved => f.write_str("303 (opgeslagen)"),
            Want::Allowed => f.write_str("toegelaten (niet 401/403/404)"),
        }
    }
}

/// Column names, in table order.
const COLUMNS: [&str; 8] = [
    "anoniem",
    "beheer",
    "coordinator",
    "zorg",
    "mentor",
    "leerplicht",
    "jeugdarts",
    "keten",
];

pub(crate) enum Body {
    None,
    /// A URL-encoded form; `true`: with the session's CSRF token.
    Form(&'static [(&'static str, &'static str)], bool),
    /// A JSON body; `true`: with the `X-CSRF-Token` header.
    Json(Value, bool),
}

pub(crate) struct Row {
    method: &'static str,
    path: &'static str,
    body: Body,
    want: [Want; 8],
}

pub(crate) fn get(path: &'static str, want: [Want; 8]) -> Row {
    Row {
        method: "GET",
        path,
        body: Body::None,
        want,
    }
}

pub(crate) fn post(
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    csrf: bool,
    want: [Want; 8],
) -> Row {
    Row {
        method: "POST",
        path,
        body: Body::Form(form, csrf),
        want,
    }
}

/// A form route twice: without the CSRF token (refused for everyone signed
/// in; a redirect to sign in otherwise), and with it (`want`).
pub(crate) fn posts(
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    want: [Want; 8],
) -> [Row; 2] {
    [
        post(path, form, false, [L, F, F, F, F, F, F, F]),
        post(path, form, true, want),
    ]
}

pub(crate) fn put(path: &'static str, body: Value, csrf: bool, want: [Want; 8]) -> Row {
    Row {
        method: "PUT",
        path,
        body: Body::Json(body, csrf),
        want,
    }
}

/// The school day every lesson row uses: Thursday 13 November 2025.
pub(crate) const DAY: &str = "2025-11-13";

#[rustfmt::skip]
fn table() -> Vec<Row> {
    // A lesson change must name the revision it was made from, which a
    // static row cannot know: the correction form answers 422 and the PUT
    // 428 for a permitted role (A), the refusals stay exact. The register
    // tests check the saves themselves.
    const LESSON: &[(&str, &str)] = &[("code", "A"), ("te_laat", ""), ("notitie", "")];
    const NOTHING: &[(&str, &str)] = &[];
    let code_a = || json!({"code": "A"});
    let mut rows = vec![
        // --- pages ---------------------------------------------------------------  anon beheer coord zorg mentor lpa arts keten
        get("/",                                                                        [L, O, O, O, O, O, O, O]),
        get("/leerlingen",                                                              [L, F, O, O, O, F, F, F]),
        get("/leerlingen?klas={klas}&stap=2",                                           [L, F, O, O, O, F, F, F]),
        get("/leerlingen/{own}",                                                        [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{other}",                                                      [L, F, O, O, N, N, N, N]),
        get("/leerlingen/{own}/gebeld",                                                 [L, F, A, A, A, N, F, F]),
        get("/leerlingen/{other}/gebeld",                                               [L, F, A, A, N, N, N, N]),
        get("/leerlingen/{own}/les?datum={day}&lesuur=3",                               [L, F, O, O, O, F, F, F]),
        get("/leerlingen/{other}/les?datum={day}&lesuur=3",                             [L, F, O, O, N, F, F, F]),
        get("/registreren",                                                             [L, F, O, O, O, F, F, F]),
        get("/registreren/{klas}/{day}/3",                                              [L, F, O, O, O, F, F, F]),
        get("/registreren/{otherklas}/{day}/3",                                         [L, F, O, O, N, F, F, F]),
        get("/registreren/{klas}/{day}/3/opgeslagen",                                   [L, F, O, O, O, F, F, F]),
        get("/importeren",                                                              [L, O, O, F, F, F, F, F]),
        get("/importeren/999999",                                                       [L, N, N, F, F, F, F, F]),
        get("/instellingen/import",                                                     [L, O, O, F, F, F, F, F]),
        get("/instellingen",                                                            [L, O, F, F, F, F, F, F]),
        get("/instellingen/kalender",                                                   [L, O, F, F, F, F, F, F]),
        get("/instellingen/beleid",                                                     [L, O, F, F, F, F, F, F]),
        get("/instellingen/beleid/beleid.toml",                                         [L, O, F, F, F, F, F, F]),
        get("/instellingen/codes",                                                      [L, O, F, F, F, F, F, F]),
        get("/gebruikers",                                                              [L, O, F, F, F, F, F, F]),
        get("/gebruikers/nieuw",                                                        [L, O, F, F, F, F, F, F]),
        get("/gebruikers/mentor",                                                       [L, O, F, F, F, F, F, F]),
        get("/auditlog",                                                                [L, O, F, F, F, F, F, F]),
        get("/auditlog?leerling={own}&gebruiker=mentor",                                [L, O, F, F, F, F, F, F]),
        get("/leerlingen/{own}/inzage",                                                 [L, F, O, O, F, F, F, F]),
        get("/leerlingen/{other}/inzage.json",                                          [L, F, O, O, F, F, F, F]),
        get("/leerlingen/onbekend-0/inzage.json",                                       [L, F, N, N, F, F, F, F]),
        get("/stappenplan",                                                             [L, O, O, O, O, O, O, O]),
        get("/begrippen",                                                               [L, O, O, O, O, O, O, O]),
        get("/inloggen",                                                                [O, O, O, O, O, O, O, O]),
        get("/static/app.css",                                                          [O, O, O, O, O, O, O, O]),
        // --- page forms, without and with the CSRF token ----------------------------  anon beheer coord zorg mentor lpa arts keten
        post("/leerlingen/{own}/les?datum={day}&lesuur=3",   LESSON,  false,            [L, F, F, F, F, F, F, F]),
        post("/leerlingen/{own}/les?datum={day}&lesuur=3",   LESSON,  true,             [L, F, A, A, A, F, F, F]),
        post("/leerlingen/{other}/les?datum={day}&lesuur=3", LESSON,  true,             [L, F, A, A, N, F, F, F]),
        post("/registreren/{klas}/{day}/3",                  NOTHING, false,            [L, F, F, F, F, F, F, F]),
        post("/registreren/{klas}/{day}/3",                  NOTHING, true,             [L, F, S, S, S, F, F, F]),
        post("/registreren/{otherklas}/{day}/3",             NOTHING, true,             [L, F, S, S, N, F, F, F]),
        // --- API -------------------------------------------------------------------  anon beheer coord zorg mentor lpa arts keten
        get("/api/openapi.json",                                                        [O, O, O, O, O, O, O, O]),
        get("/api/sessie",                                                              [U, O, O, O, O, O, O, O]),
        get("/api/leerlingen",                                                          [U, F, O, O, O, F, F, F]),
        get("/api/leerlingen?klas={klas}",                                              [U, F, O, O, O, F, F, F]),
        get("/api/leerlingen/{own}",                                                    [U, F, O, O, O, F, F, F]),
        get("/api/leerlingen/{other}",                                                  [U, F, O, O, N, F, F, F]),
        get("/api/leerlingen/{own}/registraties",                                       [U, F, O, O, O, F, F, F]),
        get("/api/leerlingen/{other}/registraties",                                     [U, F, O, O, N, F, F, F]),
        get("/api/leerlingen/{own}/signalen",                                           [U, F, O, O, O, F, F, F]),
        get("/api/leerlingen/{other}/signalen",                                         [U, F, O, O, N, F, F, F]),
        get("/api/signalen",                                                            [U, F, O, O, O, F, F, F]),
        get("/api/signalen?scope=week",                                                 [U, F, O, O, O, F, F, F]),
        put("/api/leerlingen/{own}/registraties/{day}/2",    code_a(),false,            [U, F, F, F, F, F, F, F]),
        put("/api/leerlingen/{own}/registraties/{day}/2",    code_a(),true,             [U, F, A, A, A, F, F, F]),
        put("/api/leerlingen/{other}/registraties/{day}/2",  code_a(),true,             [U, F, A, A, N, F, F, F]),
    ];
    // Forms that change settings, users or imports come last: the
    // beheerder's empty forms may change the school. Every other role must
    // be refused before its form is even read.
    //                                                                                  anon beheer coord zorg mentor lpa arts keten
    rows.extend(posts("/instellingen/kalender/vrije-dag",               NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/kalender/vrije-dag/verwijderen",   NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/kalender/schooljaar",              NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/kalender/bestand",                 NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/kalender/rijksoverheid",           NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/beleid",                           NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/beleid/bestand",                   NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/codes",                            NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/codes/wijzigen",                   NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/codes/verwijderen",                NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/codes/voorinstelling",             NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/gebruikers/nieuw",                              NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/gebruikers/niemand",                            NOTHING,        [L, N, F, F, F, F, F, F]));
    rows.extend(posts("/gebruikers/niemand/wachtwoord",                 NOTHING,        [L, N, F, F, F, F, F, F]));
    rows.extend(posts("/gebruikers/niemand/verwijderen",                NOTHING,        [L, N, F, F, F, F, F, F]));
    rows.extend(posts("/importeren",                                    NOTHING,        [L, A, A, F, F, F, F, F]));
    rows.extend(posts("/importeren/999999/bevestigen",                  NOTHING,        [L, N, N, F, F, F, F, F]));
    rows.extend(posts("/instellingen/import",                           NOTHING,        [L, A, A, F, F, F, F, F]));
    rows.extend(posts("/leerlingen/{own}/gebeld",                       NOTHING,        [L, F, A, A, A, N, F, F]));
    // Signing out ends every column's session: the last row.
    // The dossier, DUO meldingen, tasks: one file per area.
    rows.extend(crate::matrix_dossier::rows());
    rows.extend(crate::matrix_contacts::rows());
    rows.extend(crate::matrix_duo::rows());
    rows.extend(crate::matrix_tasks::rows());
    rows.extend(posts("/uitloggen",                                     NOTHING,        [L, L, L, L, L, L, L, L]));
    rows
}

pub(crate) struct Ctx {
    pub own: String,
    pub other: String,
    pub klas: String,
    pub otherklas: String,
    /// More placeholders, set by the areas' `prepare`: `("{melding}", "3")`.
    pub extra: Vec<(String, String)>,
}

impl Ctx {
    fn path(&self, template: &str) -> String {
        let mut template = template.to_owned();
        for (k, v) in &self.extra {
            template = template.replace(k.as_str(), v);
        }
        template
            .replace("{own}", &self.own)
            .replace("{other}", &self.other)
            .replace("{otherklas}", &self.otherklas)
            .replace("{klas}", &self.klas)
            .replace("{day}", DAY)
    }
}

/// One signed-in (or anonymous) client per column, with its CSRF token.
struct Column {
    name: &'static str,
    client: Client,
    csrf: Option<String>,
}

async fn columns(app: &TestApp) -> Vec<Column> {
    let mut out = vec![Column {
        name: COLUMNS[0],
        client: app.client(),
        csrf: None,
    }];
    for (i, (user, _)) in USERS.iter().enumerate() {
        assert_eq!(*user, COLUMNS[i + 1], "USERS and COLUMNS in the same order");
        let client = app.login(user).await;
        let s: Value = client
            .get(app.url("/api/sessie"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.push(Column {
            name: COLUMNS[i + 1],
            client,
            csrf: s["csrf_token"].as_str().map(str::to_owned),
        });
    }
    out
}

async fn call(app: &TestApp, col: &Column, row: &Row, path: &str) -> (StatusCode, String) {
    let url = app.url(path);
    let c = &col.client;
    let req = match (&row.body, row.method) {
        (Body::None, _) => c.get(url),
        (Body::Form(fields, with_csrf), _) => {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let (true, Some(t)) = (with_csrf, &col.csrf) {
                form.push(("csrf", t));
            }
            c.post(url).form(&form)
        }
        (Body::Json(v, with_csrf), _) => {
            let mut r = c.put(url).json(v);
            if let (true, Some(t)) = (with_csrf, &col.csrf) {
                r = r.header("x-csrf-token", t);
            }
            r
        }
    };
    let r = req.send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status(), location)
}

fn matches(want: Want, status: StatusCode, location: &str) -> bool {
    match want {
        Want::Is(s) => status.as_u16() == s,
        Want::Login => status == StatusCode::SEE_OTHER && location.starts_with("/inloggen"),
        Want::Saved => status == StatusCode::SEE_OTHER && !location.starts_with("/inloggen"),
        Want::Allowed => {
            let refused = [401, 403, 404].contains(&status.as_u16());
            let to_login = status == StatusCode::SEE_OTHER && location.starts_with("/inloggen");
            !refused && !to_login
        }
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = spawn_app().await;
    let cols = columns(&app).await;
    let coordinator = &cols[2].client;
    let other: Value = coordinator
        .get(app.url(&format!("/api/leerlingen/{}", app.other_student)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ctx = Ctx {
        own: app.own_student.clone(),
        other: app.other_student.clone(),
        klas: app.mentor_class.clone(),
        otherklas: other["class"].as_str().unwrap().to_owned(),
        extra: Vec::new(),
    };
    assert_ne!(ctx.klas, ctx.otherklas);
    // The dossiers the table asks for: {own} has an open case (3b) with
    // the jeugdarts and the ketenpartner brought in, not leerplicht;
    // {other} has an open case (3a) with no partner.
    crate::common::open_case(&app, &ctx.own, "3b", &["jeugdarts", "keten"]).await;
    crate::common::open_case(&app, &ctx.other, "3a", &[]).await;
    crate::matrix_dossier::prepare(&app, &mut ctx).await;
    crate::matrix_contacts::prepare(&app, &mut ctx).await;
    crate::matrix_duo::prepare(&app, &mut ctx).await;
    crate::matrix_tasks::prepare(&app, &mut ctx).await;

    let mut failures = Vec::new();
    let mut cells = 0;
    for row in table() {
        let path = ctx.path(row.path);
        for (col, want) in cols.iter().zip(row.want) {
            let (status, location) = call(&app, col, &row, &path).await;
            cells += 1;
            if !matches(want, status, &location) {
                let csrf = match &row.body {
                    Body::Form(_, true) | Body::Json(_, true) => " (met CSRF)",
                    Body::Form(_, false) | Body::Json(_, false) => " (zonder CSRF)",
                    Body::None => "",
                };
                failures.push(format!(
                    "{} {}{csrf} as {}: want {want}, got {} {location}",
                    row.method,
                    row.path,
                    col.name,
                    status.as_u16()
                ));
            }
        }
    }
    assert!(cells > 300, "the table covers {cells} cells");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Roles without student data reach `/`, but it shows no student.
#[tokio::test]
async fn overview_shows_no_students_to_roles_without_student_data() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let own: Value = c
        .get(app.url(&format!("/api/leerlingen/{}", app.own_student)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let name = own["name"].as_str().unwrap().to_owned();
    let (_, html) = app
        .get(&c, &format!("/leerlingen/{}", app.own_student))
        .await;
    assert!(html.contains(&name), "the coordinator sees {name}");
    for user in ["beheer", "leerplicht", "jeugdarts", "keten"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, "/").await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert!(!html.contains(&name), "{user} sees no student on /");
    }
}

/// A mentor asking for another class's student gets the same answer as for
/// a student that does not exist, on pages and in the API: nothing leaks.
#[tokio::test]
async fn another_class_looks_like_nobody() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    for (other, nobody) in [
        (
            format!("/leerlingen/{}", app.other_student),
            "/leerlingen/999999".to_owned(),
        ),
        (
            format!("/leerlingen/{}/les?datum={DAY}&lesuur=3", app.other_student),
            format!("/leerlingen/999999/les?datum={DAY}&lesuur=3"),
        ),
        (
            format!("/api/leerlingen/{}", app.other_student),
            "/api/leerlingen/999999".to_owned(),
        ),
        (
            format!("/api/leerlingen/{}/signalen", app.other_student),
            "/api/leerlingen/999999/signalen".to_owned(),
        ),
    ] {
        let (s1, b1) = app.get(&c, &other).await;
        let (s2, b2) = app.get(&c, &nobody).await;
        assert_eq!(s1, StatusCode::NOT_FOUND, "{other}");
        assert_eq!((s1, b1), (s2, b2), "{other} and {nobody} answer alike");
    }
}

/// Route paths declared in the web crate's source: `.route("…")` calls and
/// the API's `#[utoipa::path(…, path = "…")]` attributes (under `/api`).
fn declared_routes() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    fn quoted_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
        text.match_indices(marker)
            .filter_map(|(i, _)| {
                let rest = text[i + marker.len()..].trim_start();
                let rest = rest.strip_prefix('"')?;
                Some(&rest[..rest.find('"')?])
            })
            .collect()
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        out.extend(
            quoted_after(&text, ".route(")
                .into_iter()
                .map(str::to_owned),
        );
        if f.components().any(|c| c.as_os_str() == "api") {
            out.extend(
                quoted_after(&text, "path = ")
                    .into_iter()
                    .filter(|p| p.starts_with('/'))
                    .map(|p| format!("/api{p}")),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether a table path (placeholders filled or not) fits a declared route.
fn fits(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

/// A new route without a row in the table fails here: the matrix stays
/// complete as the app grows.
#[test]
fn the_table_covers_every_route() {
    let routes = declared_routes();
    assert!(routes.len() > 30, "{routes:?}");
    assert!(routes.contains(&"/api/leerlingen/{id}/registraties/{datum}/{lesuur}".to_owned()));
    let table = table();
    let missing: Vec<&String> = routes
        .iter()
        .filter(|r| !table.iter().any(|row| fits(r, row.path)))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );
}
