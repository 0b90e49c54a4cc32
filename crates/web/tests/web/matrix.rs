//! The authorization matrix: every route × every role, with the status each
//! must get. Each row names what the route needs — the permissions of
//! `aanwezig_app::permission` it checks, in order, and whom it is about —
//! and the expected status per role is computed from that one table; the
//! few rows whose answer does not come from the table (sign-in, static
//! files, the OpenAPI document, the calendar feed, signing out) are listed
//! with their statuses and why ([`Expect::Public`]). A failing run lists
//! every cell that differs, not only the first, and a route the app serves
//! without a row fails [`the_table_covers_every_route`].
//!
//! Roles (columns): not signed in, beheerder, verzuimcoördinator,
//! ondersteuningscoördinator, mentor (of the class of `{own}`), and the
//! external partners leerplichtambtenaar, jeugdarts and ketenpartner.
//!
//! How a row's expectation is computed ([`expected`]):
//! - Not signed in: pages redirect to `/inloggen` (303), the API says 401.
//! - A state-changing request without the session's CSRF token: 403 for
//!   everyone signed in.
//! - Then each permission the route checks, in order: a role that does not
//!   hold it at all gets 403 (before any form or upload is read); a role
//!   that holds it, but not for the row's [`Target`], gets 404, so that a
//!   student out of reach looks like no student.
//! - Past every check: the row's own answer (200, 303 after a save, 409,
//!   "allowed" for an empty form whose answer is the page's business, or
//!   404 for a thing that does not exist).
//!
//! The fixture: the jeugdarts and the ketenpartner are brought into
//! `{own}`'s open case, nobody into `{other}`'s; `{lpa}` and `{melding}`
//! are students of a DUO melding that was sent (leerplicht reads them).
//! Signing out is the last row: it ends every column's session.

use std::fmt;

use aanwezig_app::permission::{self, Permission as P, StudentFacts};
use aanwezig_domain::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp, USERS};

/// What a cell expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// This status.
    Is(u16),
    /// One of these two.
    Either(u16, u16),
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
pub(crate) const F: Want = Want::Is(403);
pub(crate) const N: Want = Want::Is(404);
pub(crate) const L: Want = Want::Login;
pub(crate) const S: Want = Want::Saved;
pub(crate) const A: Want = Want::Allowed;

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Is(s) => write!(f, "{s}"),
            Want::Either(a, b) => write!(f, "{a} of {b}"),
            Want::Login => f.write_str("303 → /inloggen"),
            Want::Saved => f.write_str("303 (opgeslagen)"),
            Want::Allowed => f.write_str("toegelaten (niet 401/403/404)"),
        }
    }
}

/// Column names, in table order, with the role signed in (none for the
/// first).
const COLUMNS: [(&str, Option<Role>); 8] = [
    ("anoniem", None),
    ("beheer", Some(Role::Beheerder)),
    ("coordinator", Some(Role::Verzuimcoordinator)),
    ("zorg", Some(Role::Ondersteuningscoordinator)),
    ("mentor", Some(Role::Mentor)),
    ("leerplicht", Some(Role::Leerplichtambtenaar)),
    ("jeugdarts", Some(Role::Jeugdarts)),
    ("keten", Some(Role::Ketenpartner)),
];

/// Whom a row is about, which decides each column's [`StudentFacts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Nothing of one student: a school-wide page or action (the table's
    /// `may`: every relation counts).
    School,
    /// `{own}` (and its class `{klas}`): in the mentor's class; the
    /// jeugdarts and the ketenpartner are brought into its open case.
    Own,
    /// `{other}` (and `{otherklas}`), or a melding that was not sent
    /// (`{concept}`): no relation of anyone's.
    Other,
    /// `{lpa}`, `{melding}`: a student with a DUO melding that was sent;
    /// nobody brought in, not the mentor's class.
    SentMelding,
    /// Something that does not exist: everyone past the role checks gets
    /// 404.
    Missing,
}

impl Target {
    fn facts(self, column: &str) -> StudentFacts {
        let all = StudentFacts {
            own_class: true,
            brought_in: true,
            sent_melding: true,
        };
        match self {
            Target::School | Target::Missing => all,
            Target::Own => StudentFacts {
                own_class: true,
                brought_in: matches!(column, "jeugdarts" | "keten"),
                sent_melding: false,
            },
            Target::Other => StudentFacts::default(),
            Target::SentMelding => StudentFacts {
                sent_melding: true,
                ..StudentFacts::default()
            },
        }
    }
}

/// What a row expects.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect {
    /// From the permission table: the permissions the route checks, in
    /// order, for `target`; `ok` past every check.
    Table {
        checks: &'static [P],
        target: Target,
        ok: Want,
    },
    /// Anyone signed in gets `ok` (the weekly overview, the plan, the
    /// glossary, the session).
    SignedIn(Want),
    /// Not from the table: every column's status, written out. Kept for
    /// routes without a session: sign-in, static files, the OpenAPI
    /// document, the calendar feed (its address is the key) and signing
    /// out.
    Public([Want; 8]),
}

/// [`Expect::Table`].
pub(crate) const fn can(target: Target, checks: &'static [P], ok: Want) -> Expect {
    Expect::Table { checks, target, ok }
}

/// Reading a student's own pages.
pub(crate) const READ: &[P] = &[P::ReadStudent];
/// Reading a student's case: the student, then the case.
pub(crate) const READ_CASE: &[P] = &[P::ReadStudent, P::ReadCase];
/// Changing a student's case.
pub(crate) const CHANGE_CASE: &[P] = &[P::ReadStudent, P::ChangeCase];
/// Referrals, decisions, partners, the dossierhouder.
pub(crate) const PARTNERS: &[P] = &[P::ReadStudent, P::ChangeCase, P::ManagePartners];
/// The API's student data: the school's lists, then the student.
pub(crate) const API: &[P] = &[P::ListStudents, P::ReadStudent];

/// The expected answer in `column` (index into [`COLUMNS`]).
fn expected(row: &Row, column: usize) -> Want {
    let (name, role) = COLUMNS[column];
    let api = row.path.starts_with("/api/");
    let Some(role) = role else {
        return match row.expect {
            Expect::Public(w) => w[0],
            _ if api => Want::Is(401),
            _ => L,
        };
    };
    let csrf = match &row.body {
        Body::None => true,
        Body::Form(_, c) | Body::Json(_, c) => *c,
    };
    match row.expect {
        _ if !csrf => F,
        Expect::Public(w) => w[column],
        Expect::SignedIn(ok) => ok,
        Expect::Table { checks, target, ok } => {
            let facts = target.facts(name);
            for p in checks {
                if !permission::may(role, *p) {
                    return F;
                }
                if !permission::may_for(role, *p, facts) {
                    return N;
                }
            }
            if target == Target::Missing {
                N
            } else {
                ok
            }
        }
    }
}

pub(crate) enum Body {
    None,
    /// A URL-encoded form; `true`: with the session's CSRF token.
    Form(&'static [(&'static str, &'static str)], bool),
    /// A JSON body; `true`: with the `X-CSRF-Token` header.
    Json(Value, bool),
}

pub(crate) struct Row {
    method: Method,
    path: &'static str,
    body: Body,
    expect: Expect,
}

pub(crate) fn get(path: &'static str, expect: Expect) -> Row {
    Row {
        method: Method::GET,
        path,
        body: Body::None,
        expect,
    }
}

pub(crate) fn post(
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    csrf: bool,
    expect: Expect,
) -> Row {
    Row {
        method: Method::POST,
        path,
        body: Body::Form(form, csrf),
        expect,
    }
}

/// A form route twice: without the CSRF token (refused for everyone signed
/// in; a redirect to sign in otherwise), and with it (`expect`).
pub(crate) fn posts(
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> [Row; 2] {
    [
        post(path, form, false, expect),
        post(path, form, true, expect),
    ]
}

pub(crate) fn put(path: &'static str, body: Value, csrf: bool, expect: Expect) -> Row {
    Row {
        method: Method::PUT,
        path,
        body: Body::Json(body, csrf),
        expect,
    }
}

/// The school day every lesson row uses: Thursday 13 November 2025.
pub(crate) const DAY: &str = "2025-11-13";

#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Target::{Missing, Other, Own, School};
    // A lesson change must name the revision it was made from, which a
    // static row cannot know: the correction form answers 422 and the PUT
    // 428 for a permitted role (A), the refusals stay exact. The register
    // tests check the saves themselves.
    const LESSON: &[(&str, &str)] = &[("code", "A"), ("te_laat", ""), ("notitie", "")];
    const NOTHING: &[(&str, &str)] = &[];
    const WRONG: &[(&str, &str)] = &[("gebruikersnaam", "niemand"), ("wachtwoord", "fout")];
    const WRONG_PASSWORD: Want = Want::Either(401, 429);
    const CALL: &[P] = &[P::ReadStudent, P::RecordCall];
    let code_a = || json!({"code": "A"});
    let mut rows = vec![
        // --- pages -----------------------------------------------------------------------
        get("/",                                                Expect::SignedIn(O)),
        get("/leerlingen",                                      can(School, &[P::ListStudents], O)),
        get("/leerlingen?klas={klas}&stap=2",                   can(School, &[P::ListStudents], O)),
        get("/leerlingen/{own}",                                can(Own, READ, O)),
        get("/leerlingen/{other}",                              can(Other, READ, O)),
        get("/leerlingen/{own}/gebeld",                         can(Own, CALL, A)),
        get("/leerlingen/{other}/gebeld",                       can(Other, CALL, A)),
        get("/leerlingen/{own}/les?datum={day}&lesuur=3",       can(Own, &[P::Register], O)),
        get("/leerlingen/{other}/les?datum={day}&lesuur=3",     can(Other, &[P::Register], O)),
        get("/registreren",                                     can(School, &[P::Register], O)),
        get("/registreren/{klas}/{day}/3",                      can(Own, &[P::Register], O)),
        get("/registreren/{otherklas}/{day}/3",                 can(Other, &[P::Register], O)),
        get("/registreren/{klas}/{day}/3/opgeslagen",           can(Own, &[P::Register], O)),
        get("/importeren",                                      can(School, &[P::Import], O)),
        get("/importeren/999999",                               can(Missing, &[P::Import], O)),
        get("/instellingen/import",                             can(School, &[P::EditImportSettings], O)),
        get("/instellingen",                                    can(School, &[P::ManageSettings], O)),
        get("/instellingen/kalender",                           can(School, &[P::ManageSettings], O)),
        get("/instellingen/beleid",                             can(School, &[P::ManageSettings], O)),
        get("/instellingen/beleid/beleid.toml",                 can(School, &[P::ManageSettings], O)),
        get("/instellingen/codes",                              can(School, &[P::ManageSettings], O)),
        get("/gebruikers",                                      can(School, &[P::ManageUsers], O)),
        get("/gebruikers/nieuw",                                can(School, &[P::ManageUsers], O)),
        get("/gebruikers/mentor",                               can(School, &[P::ManageUsers], O)),
        get("/auditlog",                                        can(School, &[P::ReadAuditLog], O)),
        get("/auditlog?leerling={own}&gebruiker=mentor",        can(School, &[P::ReadAuditLog], O)),
        get("/leerlingen/{own}/inzage",                         can(Own, &[P::ExportStudent], O)),
        get("/leerlingen/{other}/inzage.json",                  can(Other, &[P::ExportStudent], O)),
        get("/leerlingen/onbekend-0/inzage.json",               can(Missing, &[P::ExportStudent], O)),
        get("/stappenplan",                                     Expect::SignedIn(O)),
        get("/begrippen",                                       Expect::SignedIn(O)),
        get("/inloggen",                                        Expect::Public([O, O, O, O, O, O, O, O])),
        // A wrong password: the form again (401), for anyone, or 429 once
        // the sign-in limiter slows this address down; signing in needs
        // no session and so no CSRF token.
        post("/inloggen", WRONG, true,                          Expect::Public([WRONG_PASSWORD; 8])),
        get("/static/app.css",                                  Expect::Public([O, O, O, O, O, O, O, O])),
        // --- page forms, without and with the CSRF token ----------------------------------
        post("/leerlingen/{own}/les?datum={day}&lesuur=3",   LESSON,  false, can(Own, &[P::Register], A)),
        post("/leerlingen/{own}/les?datum={day}&lesuur=3",   LESSON,  true,  can(Own, &[P::Register], A)),
        post("/leerlingen/{other}/les?datum={day}&lesuur=3", LESSON,  true,  can(Other, &[P::Register], A)),
        post("/registreren/{klas}/{day}/3",                  NOTHING, false, can(Own, &[P::Register], S)),
        post("/registreren/{klas}/{day}/3",                  NOTHING, true,  can(Own, &[P::Register], S)),
        post("/registreren/{otherklas}/{day}/3",             NOTHING, true,  can(Other, &[P::Register], S)),
        // --- API ---------------------------------------------------------------------------
        get("/api/openapi.json",                                Expect::Public([O, O, O, O, O, O, O, O])),
        get("/api/sessie",                                      Expect::SignedIn(O)),
        get("/api/leerlingen",                                  can(School, &[P::ListStudents], O)),
        get("/api/leerlingen?klas={klas}",                      can(School, &[P::ListStudents], O)),
        get("/api/leerlingen/{own}",                            can(Own, API, O)),
        get("/api/leerlingen/{other}",                          can(Other, API, O)),
        get("/api/leerlingen/{own}/registraties",               can(Own, API, O)),
        get("/api/leerlingen/{other}/registraties",             can(Other, API, O)),
        get("/api/leerlingen/{own}/signalen",                   can(Own, API, O)),
        get("/api/leerlingen/{other}/signalen",                 can(Other, API, O)),
        get("/api/signalen",                                    can(School, &[P::ListStudents], O)),
        get("/api/signalen?scope=week",                         can(School, &[P::ListStudents], O)),
        put("/api/leerlingen/{own}/registraties/{day}/2",    code_a(), false, can(Own, &[P::Register], A)),
        put("/api/leerlingen/{own}/registraties/{day}/2",    code_a(), true,  can(Own, &[P::Register], A)),
        put("/api/leerlingen/{other}/registraties/{day}/2",  code_a(), true,  can(Other, &[P::Register], A)),
    ];
    // Forms that change settings, users or imports come last: the
    // beheerder's empty forms may change the school. Every other role must
    // be refused before its form is even read.
    let settings = can(School, &[P::ManageSettings], A);
    rows.extend(posts("/instellingen/kalender/vrije-dag",               NOTHING, settings));
    rows.extend(posts("/instellingen/kalender/vrije-dag/verwijderen",   NOTHING, settings));
    rows.extend(posts("/instellingen/kalender/schooljaar",              NOTHING, settings));
    rows.extend(posts("/instellingen/kalender/bestand",                 NOTHING, settings));
    rows.extend(posts("/instellingen/kalender/rijksoverheid",           NOTHING, settings));
    rows.extend(posts("/instellingen/beleid",                           NOTHING, settings));
    rows.extend(posts("/instellingen/beleid/bestand",                   NOTHING, settings));
    rows.extend(posts("/instellingen/codes",                            NOTHING, settings));
    rows.extend(posts("/instellingen/codes/wijzigen",                   NOTHING, settings));
    rows.extend(posts("/instellingen/codes/verwijderen",                NOTHING, settings));
    rows.extend(posts("/instellingen/codes/voorinstelling",             NOTHING, settings));
    rows.extend(posts("/gebruikers/nieuw",                              NOTHING, can(School, &[P::ManageUsers], A)));
    rows.extend(posts("/gebruikers/niemand",                            NOTHING, can(Missing, &[P::ManageUsers], A)));
    rows.extend(posts("/gebruikers/niemand/wachtwoord",                 NOTHING, can(Missing, &[P::ManageUsers], A)));
    rows.extend(posts("/gebruikers/niemand/verwijderen",                NOTHING, can(Missing, &[P::ManageUsers], A)));
    rows.extend(posts("/importeren",                                    NOTHING, can(School, &[P::Import], A)));
    rows.extend(posts("/importeren/999999/bevestigen",                  NOTHING, can(Missing, &[P::Import], A)));
    rows.extend(posts("/instellingen/import",                           NOTHING, can(School, &[P::EditImportSettings], A)));
    rows.extend(posts("/leerlingen/{own}/gebeld",                       NOTHING, can(Own, CALL, A)));
    // The dossier, DUO meldingen, tasks: one file per area.
    rows.extend(crate::matrix_dossier::rows());
    rows.extend(crate::matrix_contacts::rows());
    rows.extend(crate::matrix_duo::rows());
    rows.extend(crate::matrix_tasks::rows());
    // Signing out ends every column's session: the last row.
    rows.extend(posts("/uitloggen", NOTHING, Expect::Public([L, L, L, L, L, L, L, L])));
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
        name: COLUMNS[0].0,
        client: app.client(),
        csrf: None,
    }];
    for (i, (user, role)) in USERS.iter().enumerate() {
        assert_eq!(
            (*user, Some(*role)),
            COLUMNS[i + 1],
            "USERS and COLUMNS in the same order"
        );
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
            name: COLUMNS[i + 1].0,
            client,
            csrf: s["csrf_token"].as_str().map(str::to_owned),
        });
    }
    out
}

async fn call(app: &TestApp, col: &Column, row: &Row, path: &str) -> (StatusCode, String) {
    let url = app.url(path);
    let c = &col.client;
    let req = match (&row.body, &row.method) {
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
        Want::Either(a, b) => [a, b].contains(&status.as_u16()),
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
        for (i, col) in cols.iter().enumerate() {
            let want = expected(&row, i);
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

/// Whether a table path (placeholders filled or not) fits a route.
fn fits(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

/// A new route without a row in the table fails here: the matrix stays
/// complete as the app grows. The routes are the app's own list
/// (`aanwezig_web::routes`, from the same calls that build the router),
/// each path with each method it serves.
#[test]
fn the_table_covers_every_route() {
    let routes = aanwezig_web::routes();
    assert!(routes.len() > 80, "{routes:?}");
    assert!(routes.contains(&(
        "/api/leerlingen/{id}/registraties/{datum}/{lesuur}".to_owned(),
        Method::PUT
    )));
    let table = table();
    let missing: Vec<String> = routes
        .iter()
        .filter(|(r, m)| {
            !table
                .iter()
                .any(|row| row.method == *m && fits(r, row.path))
        })
        .map(|(r, m)| format!("{m} {r}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );
    // And no row for a route the app does not serve.
    let unknown: Vec<String> = table
        .iter()
        .filter(|row| {
            !routes
                .iter()
                .any(|(r, m)| row.method == *m && fits(r, row.path))
        })
        .map(|row| format!("{} {}", row.method, row.path))
        .collect();
    assert!(unknown.is_empty(), "rows for no route: {unknown:?}");
}

/// Every permission a route checks is held by some role: a row cannot
/// name a permission that would make every column 403 by accident.
#[test]
fn every_row_names_permissions_someone_holds() {
    for row in table() {
        if let Expect::Table { checks, .. } = row.expect {
            for p in checks {
                assert!(
                    Role::ALL.into_iter().any(|r| permission::may(r, *p)),
                    "{} {}: {p:?}",
                    row.method,
                    row.path
                );
            }
        }
    }
}
