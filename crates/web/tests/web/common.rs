//! `spawn_app`: a real server on 127.0.0.1:0 over a fresh database with
//! the shipped 2025–2026 calendar, the Magister policy, a small demo school
//! and one user per role.
//!
//! The database is a SQLite file, or with `AANWEZIG_TEST_BACKEND=postgres`
//! a fresh PostgreSQL database per app (`aanwezig_storage_postgres::testing`
//! on the server `AANWEZIG_TEST_PG`), so that every test runs on both
//! backends.

use aanwezig_storage::prelude::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use aanwezig_domain::{Calendar, Category, RegistrationRecord, Role, RuleId, StudentId};
use aanwezig_storage::{ImportSource, StoredStudent, User};
use aanwezig_storage_postgres::testing::TestDb;
use aanwezig_storage_postgres::PgStore;
use aanwezig_storage_sqlite::SqliteStore;
use aanwezig_web::{AppState, Config, FixedClock};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use tempfile::TempDir;

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// Users created by `spawn_app`, one per role (`mentor` mentors the class of
/// the first demo student, `MENTOR_CLASS`).
pub const USERS: [(&str, Role); 7] = [
    ("beheer", Role::Beheerder),
    ("coordinator", Role::Verzuimcoordinator),
    ("zorg", Role::Ondersteuningscoordinator),
    ("mentor", Role::Mentor),
    ("leerplicht", Role::Leerplichtambtenaar),
    ("jeugdarts", Role::Jeugdarts),
    ("keten", Role::Ketenpartner),
];

/// The school date of every test: Friday 14 November 2025.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 14).unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0).unwrap()
}

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

/// Argon2 is slow in debug builds: hash the shared password once.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| aanwezig_auth::hash_password(PASSWORD).unwrap())
}

/// The backend the tests run on: `AANWEZIG_TEST_BACKEND` (`sqlite`, the
/// default, or `postgres`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("AANWEZIG_TEST_BACKEND").as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres" | "postgresql") => Backend::Postgres,
        Ok(other) => panic!("AANWEZIG_TEST_BACKEND={other}: sqlite or postgres"),
    }
}

/// A test's database, kept alive as long as this value (and its clones):
/// a SQLite file in a temporary folder, or a PostgreSQL database that is
/// dropped with the last clone.
#[derive(Clone)]
pub enum TestDatabase {
    Sqlite {
        path: std::path::PathBuf,
        _dir: Arc<TempDir>,
    },
    Postgres(Arc<TestDb>),
}

impl TestDatabase {
    /// A fresh, empty database on the tests' backend.
    pub async fn create() -> TestDatabase {
        match backend() {
            Backend::Sqlite => {
                let dir = TempDir::new().unwrap();
                TestDatabase::Sqlite {
                    path: dir.path().join("web.db"),
                    _dir: Arc::new(dir),
                }
            }
            Backend::Postgres => TestDatabase::Postgres(Arc::new(TestDb::create().await)),
        }
    }

    /// A new store handle on this database (its own pool, and on
    /// PostgreSQL its own feed listener), as another server would open it;
    /// `create` makes the schema on a SQLite file (PostgreSQL migrates on
    /// every connect).
    pub async fn open(&self, create: bool) -> Arc<dyn Store> {
        match self {
            TestDatabase::Sqlite { path, .. } => Arc::new(
                SqliteStore::open(&path.to_string_lossy(), create)
                    .await
                    .unwrap(),
            ),
            TestDatabase::Postgres(db) => Arc::new(PgStore::connect(&db.url).await.unwrap()),
        }
    }
}

/// A fresh, empty database and a store on it.
pub async fn empty_store() -> (Arc<dyn Store>, TestDatabase) {
    let database = TestDatabase::create().await;
    (database.open(true).await, database)
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub clock: Arc<FixedClock>,
    pub state: AppState,
    /// Class of the user `mentor`.
    pub mentor_class: String,
    /// A student in `mentor_class`, and one in another class.
    pub own_student: String,
    pub other_student: String,
    /// The database; dropped after everything above (fields drop in
    /// order), and with the last app on it.
    pub database: TestDatabase,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// A client signed in as `username`.
    pub async fn login(&self, username: &str) -> Client {
        let c = self.client();
        let r = c
            .post(self.url("/inloggen"))
            .form(&[
                ("gebruikersnaam", username),
                ("wachtwoord", PASSWORD),
                ("terug", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
        c
    }

    /// GET a page and return status and body.
    pub async fn get(&self, c: &Client, path: &str) -> (StatusCode, String) {
        let r = c.get(self.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// The CSRF token of a signed-in client, read from a page's forms.
    pub async fn csrf(&self, c: &Client) -> String {
        let (_, html) = self.get(c, "/").await;
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf field in {html}"))
    }

    /// POSTs a form with the client's CSRF token added and returns the
    /// response (redirects are not followed).
    pub async fn post_form(
        &self,
        c: &Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(c).await;
        let mut form = fields.to_vec();
        form.push(("csrf", &csrf));
        c.post(self.url(path)).form(&form).send().await.unwrap()
    }

    /// `post_form`, answered as status, `Location` (empty if none) and body.
    pub async fn submit(
        &self,
        c: &Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let r = self.post_form(c, path, fields).await;
        let (status, location) = (r.status(), location(&r));
        (status, location, r.text().await.unwrap())
    }

    /// `post_form` that must answer 303 (the change was saved); returns the
    /// `Location` it redirects to.
    pub async fn post_ok(&self, c: &Client, path: &str, fields: &[(&str, &str)]) -> String {
        let (status, location, body) = self.submit(c, path, fields).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "POST {path} {fields:?}: {body}"
        );
        location
    }
}

/// An empty form, for `post_form` to send just the CSRF token.
pub const NO_FIELDS: &[(&str, &str)] = &[];

/// The `Location` header of a response, empty if there is none.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_owned())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

/// `spawn_app` with its own settings.
pub async fn spawn_app_with(config: Config) -> TestApp {
    spawn_app_full(config, None).await
}

/// `spawn_app` with its own settings and, optionally, the status of a
/// watched import folder.
pub async fn spawn_app_full(
    config: Config,
    import_dir: Option<Arc<aanwezig_web::import_dir::ImportDirStatus>>,
) -> TestApp {
    spawn_school(config, import_dir, 60).await
}

/// `spawn_app` over a demo school of `students` students.
pub async fn spawn_app_sized(students: usize) -> TestApp {
    spawn_school(Config::default(), None, students).await
}

async fn spawn_school(
    config: Config,
    import_dir: Option<Arc<aanwezig_web::import_dir::ImportDirStatus>>,
    students: usize,
) -> TestApp {
    let (store, database) = empty_store().await;
    let years = aanwezig_import::parse_school_years(
        &std::fs::read_to_string(repo("data/calendars/2025-2026-noord.toml")).unwrap(),
        "2025-2026-noord.toml",
    )
    .unwrap();
    let cal = Calendar::new(years.clone()).unwrap();
    let policy = aanwezig_import::parse_policy(
        &std::fs::read_to_string(repo("data/policy/magister.toml")).unwrap(),
        "magister.toml",
    )
    .unwrap();
    store.save_calendar(&years, "test", now()).await.unwrap();
    store.save_policy(&policy, "test", now()).await.unwrap();

    let demo = aanwezig_demo::generate(
        &cal,
        &aanwezig_demo::DemoConfig {
            students,
            seed: 11,
            until: Some(today()),
        },
    );
    let students: Vec<StoredStudent> = demo
        .students
        .iter()
        .map(|s| StoredStudent {
            student: s.clone(),
            left_on: None,
        })
        .collect();
    store.upsert_students(&students).await.unwrap();
    let records: Vec<_> = (0..demo.students.len())
        .flat_map(|i| demo.records(&cal, i).collect::<Vec<_>>())
        .collect();
    let source = ImportSource {
        file_name: "demo.csv".into(),
        sha256: String::new(),
        imported_by: "test".into(),
        at: now(),
    };
    store
        .import_registrations(&records, &source, &|_| {})
        .await
        .unwrap();

    let mentor_class = demo.students[0].class.clone();
    let own_student = demo.students[0].id.to_string();
    let other_student = demo
        .students
        .iter()
        .find(|s| s.class != mentor_class)
        .unwrap()
        .id
        .to_string();
    for (username, role) in USERS {
        let classes = if role == Role::Mentor {
            vec![mentor_class.clone()]
        } else {
            vec![]
        };
        store
            .create_user(&User {
                username: username.into(),
                display_name: format!("Test {username}"),
                role,
                classes,
                email: None,
                active: true,
                password_hash: password_hash().to_owned(),
                created_at: now(),
                account_id: String::new(),
            })
            .await
            .unwrap();
    }

    let clock = Arc::new(FixedClock::new(now(), today()));
    let mut state = AppState::new(store.clone(), clock.clone(), config)
        .await
        .unwrap();
    state.import_dir = import_dir;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aanwezig_web::serve(listener, state.clone()));
    TestApp {
        addr,
        store,
        clock,
        state,
        mentor_class,
        own_student,
        other_student,
        database,
    }
}

/// A second app server on `app`'s database (its own store handle, live
/// school and port), as behind a load balancer: the same users, students
/// and clock date.
pub async fn spawn_beside(app: &TestApp) -> TestApp {
    let store = app.database.open(false).await;
    let clock = Arc::new(FixedClock::new(now(), today()));
    let state = AppState::new(store.clone(), clock.clone(), Config::default())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aanwezig_web::serve(listener, state.clone()));
    TestApp {
        addr,
        store,
        clock,
        state,
        mentor_class: app.mentor_class.clone(),
        own_student: app.own_student.clone(),
        other_student: app.other_student.clone(),
        database: app.database.clone(),
    }
}

/// Opens a case for `student` on `step` (by the coordinator, on today) with
/// the given partner users brought in, straight in the store.
pub async fn open_case(app: &TestApp, student: &str, step: &str, partners: &[&str]) {
    open_case_on(app, student, step, partners, today()).await;
}

/// `open_case`, opened (and the partners brought in) on `on`.
pub async fn open_case_on(
    app: &TestApp,
    student: &str,
    step: &str,
    partners: &[&str],
    on: NaiveDate,
) {
    use aanwezig_domain::case::{Actor, OpenReason};
    use aanwezig_domain::{Case, CaseStep};
    let by = Actor::new("coordinator", Role::Verzuimcoordinator);
    let mut case = Case::open(
        StudentId::parse(student).unwrap(),
        on,
        by.clone(),
        OpenReason::Zorgen {
            note: "zorgen over de aanwezigheid".into(),
        },
        CaseStep::parse(step).unwrap(),
    )
    .unwrap();
    for p in partners {
        involve(&mut case, &account(app, p).await, on);
    }
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
}

/// The student's stored case (which must exist).
pub async fn case_of(app: &TestApp, student: &str) -> aanwezig_domain::Case {
    app.store
        .case(&StudentId::parse(student).unwrap())
        .await
        .unwrap()
        .unwrap()
}

/// Starts an intervention (afspraken: `what`, from `on`, by the
/// coordinator) in the student's stored case, straight in the store.
pub async fn start_intervention(app: &TestApp, student: &str, what: &str, on: NaiveDate) {
    use aanwezig_domain::case::{Actor, InterventionKind};
    let mut case = case_of(app, student).await;
    case.start_intervention(
        InterventionKind::Afspraken,
        what,
        on,
        Actor::new("coordinator", Role::Verzuimcoordinator),
    )
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
}

/// Stores a melding of `student` with `status` (`matrix_duo::melding`, by
/// the coordinator) and returns its number.
pub async fn store_melding(
    app: &TestApp,
    student: &aanwezig_domain::Student,
    status: aanwezig_domain::MeldingStatus,
) -> i64 {
    app.store
        .save_melding(
            None,
            &crate::matrix_duo::melding(student, status),
            "coordinator",
            now(),
        )
        .await
        .unwrap()
}

/// The stored account `username` (which must exist).
pub async fn account(app: &TestApp, username: &str) -> User {
    app.store.user(username).await.unwrap().unwrap()
}

/// Brings the account `user` into the case on `on` in its role; for the
/// jeugdarts and a ketenpartner first records the parents' consent
/// (referral, VO WIJ), which the domain requires.
pub fn involve(case: &mut aanwezig_domain::Case, user: &User, on: NaiveDate) {
    let role = user.role;
    use aanwezig_domain::case::{Actor, Decision, DecisionKind, Party};
    let by = Actor::new("coordinator", Role::Verzuimcoordinator);
    let consent = match role {
        Role::Jeugdarts => Some(DecisionKind::Jeugdarts { consent: true }),
        Role::Ketenpartner => Some(DecisionKind::VoWij { consent: true }),
        _ => None,
    };
    if let Some(kind) = consent {
        case.decide(Decision {
            on,
            by: by.clone(),
            kind,
            parties: vec![Party::Ouders],
            note: String::new(),
        })
        .unwrap();
    }
    case.involve(&user.identity(), role, on, by).unwrap();
}

/// A student other than the mentor's and the fixture's `other`, with no
/// DUO signal yet.
pub fn pick_student(app: &TestApp, skip: &[&str]) -> String {
    let live = app.state.read().unwrap();
    live.school
        .students()
        .iter()
        .find(|s| {
            let id = s.id.as_str();
            id != app.own_student && id != app.other_student && !skip.contains(&id)
        })
        .unwrap()
        .id
        .to_string()
}

/// Rewrites the student's registrations from 1 September: present, except
/// `absent` (date, lessons, code).
pub async fn rewrite(app: &TestApp, student: &str, absent: &[(NaiveDate, &[u8], &str)]) {
    let id = StudentId::parse(student).unwrap();
    let regs = app.store.student_registrations(&id).await.unwrap();
    let changed: Vec<RegistrationRecord> = regs
        .into_iter()
        .filter(|r| r.date >= ymd(2025, 9, 1))
        .map(|mut r| {
            let code = absent
                .iter()
                .find(|(d, lessons, _)| *d == r.date && lessons.contains(&r.lesson))
                .map(|(_, _, c)| *c);
            (r.code, r.category) = match code {
                Some("A") => (Some("A".into()), Category::Unknown),
                Some("Z") => (Some("Z".into()), Category::ReportedSick),
                Some(other) => panic!("code {other}"),
                None => (None, Category::Present),
            };
            r.minutes_late = 0;
            r.note = None;
            r
        })
        .collect();
    app.store
        .set_registrations(&changed, "test", now())
        .await
        .unwrap();
    app.state.reload().await.unwrap();
}

/// A student (not `own_student` or `other_student`) with 16 unexplained
/// lesuren: absent without a reason (A) on Monday 10 and Tuesday 11
/// November (7 lessons each) and lessons 1–2 of Wednesday 12 November, and
/// lesson 5 that Wednesday reported sick (Z), present otherwise since
/// 1 September: `duo_16h` fires on 12 November, begin 10 November.
pub async fn sixteen_hours(app: &TestApp) -> String {
    let s = pick_student(app, &[]);
    let all: &[u8] = &[1, 2, 3, 4, 5, 6, 7];
    rewrite(
        app,
        &s,
        &[
            (ymd(2025, 11, 10), all, "A"),
            (ymd(2025, 11, 11), all, "A"),
            (ymd(2025, 11, 12), &[1, 2], "A"),
            (ymd(2025, 11, 12), &[5], "Z"),
        ],
    )
    .await;
    let live = app.state.read().unwrap();
    let i = live.position(&s).unwrap();
    let cal = live.cal.as_ref().unwrap();
    assert!(
        live.evaluations[i]
            .signals
            .iter()
            .any(|sig| sig.rule == RuleId::Duo16h && cal.date(sig.fired_on) == ymd(2025, 11, 12)),
        "the fixture makes duo_16h on 12 November"
    );
    s
}

/// A calendar date.
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The demo student with number `id`, as the live school holds them.
pub fn student(app: &TestApp, id: &str) -> aanwezig_domain::Student {
    let live = app.state.read().unwrap();
    let i = live.position(id).unwrap();
    live.school.students()[i].clone()
}
