//! `aanwezig user` end to end: the real binary on a SQLite file in a
//! temporary folder, and the store opened afterwards to check what it
//! wrote (hashes that verify, sessions ended, the audit log).

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use aanwezig_storage::prelude::*;
use std::path::Path;

use aanwezig_domain::Role;
use aanwezig_storage::{AuditAction, AuditFilter, SessionRecord, Store};
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use chrono::{TimeZone, Utc};
use tempfile::TempDir;

fn aanwezig(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("aanwezig").expect("binary is built");
    c.current_dir(dir)
        .env("AANWEZIG_DB", dir.join("test.db"))
        .env("USER", "tester")
        .env_remove("AANWEZIG_TODAY");
    c
}

/// Runs `aanwezig` with `args` (and `stdin`), returning success, stdout
/// and stderr.
fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut c = aanwezig(dir);
    c.args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (success, out, err) = run(dir, args, stdin);
    assert!(success, "{args:?} failed:\n{out}\n{err}");
    out
}

fn refused(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (success, out, err) = run(dir, args, stdin);
    assert!(!success, "{args:?} should fail:\n{out}");
    err
}

async fn open_store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("test.db").to_string_lossy(), false)
        .await
        .expect("database exists")
}

/// The password printed after `Wachtwoord: `.
fn shown_password(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Wachtwoord: "))
        .unwrap_or_else(|| panic!("no password in:\n{stdout}"))
        .to_owned()
}

async fn audit_details(dir: &Path) -> Vec<(String, AuditAction, String)> {
    let store = open_store(dir).await;
    let log = store
        .audit_log(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    store.close().await;
    log.into_iter()
        .rev()
        .map(|e| (e.username, e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn add_list_duplicate_and_remove() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let out = ok(d, &["user", "list"], None);
    assert!(out.contains("Nog geen gebruikers"), "{out}");

    let out = ok(
        d,
        &[
            "user",
            "add",
            "jan.devries",
            "--name",
            "Jan de Vries",
            "--role",
            "mentor",
            "--class",
            "2B",
            "--class",
            "3A",
            "--email",
            "jan@school.nl",
        ],
        None,
    );
    assert!(out.contains("Gebruiker jan.devries"), "{out}");
    let password = shown_password(&out);
    assert!(aanwezig_auth::check_password_strength(&password, "jan.devries").is_ok());
    ok(
        d,
        &[
            "user",
            "add",
            "anna",
            "--name",
            "Anna Bakker",
            "--role",
            "verzuimcoördinator",
        ],
        None,
    );

    let list = ok(d, &["user", "list"], None);
    let jan = list.lines().find(|l| l.contains("jan.devries")).unwrap();
    for cell in ["Jan de Vries", "mentor", "2B, 3A", "jan@school.nl", "ja"] {
        assert!(jan.contains(cell), "{cell} missing from {jan}");
    }
    assert!(list.contains("verzuimcoördinator"), "{list}");
    assert!(list.contains("2 gebruikers"), "{list}");
    // Sorted by username.
    assert!(list.find("anna").unwrap() < list.find("jan.devries").unwrap());

    let err = refused(
        d,
        &[
            "user",
            "add",
            "jan.devries",
            "--name",
            "Ander",
            "--role",
            "beheerder",
        ],
        None,
    );
    assert!(err.contains("bestaat al"), "{err}");

    let store = open_store(d).await;
    let stored = store.user("jan.devries").await.unwrap().unwrap();
    assert_eq!(
        stored.display_name, "Jan de Vries",
        "the duplicate changed nothing"
    );
    assert_eq!(stored.role, Role::Mentor);
    assert_eq!(stored.classes, ["2B", "3A"]);
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(aanwezig_auth::verify_password(
        &password,
        &stored.password_hash
    ));
    store.close().await;

    let out = ok(d, &["user", "remove", "jan.devries"], None);
    assert!(out.contains("verwijderd"), "{out}");
    let err = refused(d, &["user", "remove", "jan.devries"], None);
    assert!(err.contains("bestaat niet"), "{err}");
    let list = ok(d, &["user", "list"], None);
    assert!(
        !list.contains("jan.devries") && list.contains("1 gebruiker\n"),
        "{list}"
    );

    let log = audit_details(d).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log
        .iter()
        .all(|(by, action, _)| by == "tester" && *action == AuditAction::UserAdmin));
    assert!(log[0].2.contains("jan.devries") && log[0].2.contains("aangemaakt"));
    assert!(log[2].2.contains("verwijderd"));
    assert!(log.iter().all(|(_, _, detail)| !detail.contains(&password)));
}

#[tokio::test]
async fn passwd_from_stdin_replaces_the_hash_and_ends_sessions() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let first = "eerste wachtwoord";
    let out = ok(
        d,
        &[
            "user",
            "add",
            "piet",
            "--name",
            "Piet",
            "--role",
            "beheerder",
            "--password-stdin",
        ],
        Some(&format!("{first}\n")),
    );
    assert!(
        !out.contains("Wachtwoord:"),
        "a given password is not shown: {out}"
    );

    let store = open_store(d).await;
    assert!(aanwezig_auth::verify_password(
        first,
        &store.user("piet").await.unwrap().unwrap().password_hash
    ));
    let at = Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap();
    let session = SessionRecord {
        id_hash: aanwezig_auth::token_hash("cookie"),
        username: "piet".to_owned(),
        csrf_token: "csrf".to_owned(),
        created_at: at,
        last_seen_at: at,
    };
    store.create_session(&session).await.unwrap();
    store.close().await;

    // A trailing CRLF is a line end, not part of the password; inner
    // spaces are kept.
    let second = "tweede  wachtwoord!";
    let out = ok(
        d,
        &["user", "passwd", "piet", "--password-stdin"],
        Some(&format!("{second}\r\n")),
    );
    assert!(out.contains("Nieuw wachtwoord voor piet"), "{out}");
    assert!(out.contains("1 sessie"), "{out}");
    assert!(!out.contains(second));

    let store = open_store(d).await;
    let hash = store.user("piet").await.unwrap().unwrap().password_hash;
    assert!(aanwezig_auth::verify_password(second, &hash));
    assert!(!aanwezig_auth::verify_password(first, &hash));
    assert_eq!(store.session(&session.id_hash).await.unwrap(), None);
    store.close().await;

    // Weak: refused with the reason, hash kept.
    let err = refused(
        d,
        &["user", "passwd", "piet", "--password-stdin"],
        Some("kort\n"),
    );
    assert!(err.contains("te kort"), "{err}");
    let err = refused(d, &["user", "passwd", "klaas"], None);
    assert!(err.contains("bestaat niet"), "{err}");

    // Without stdin a new one is generated and shown once.
    let out = ok(d, &["user", "passwd", "piet"], None);
    let generated = shown_password(&out);
    let store = open_store(d).await;
    let hash = store.user("piet").await.unwrap().unwrap().password_hash;
    assert!(aanwezig_auth::verify_password(&generated, &hash));
    store.close().await;

    let log = audit_details(d).await;
    assert_eq!(log.len(), 3, "{log:?}");
    for secret in [first, second, generated.as_str()] {
        assert!(log.iter().all(|(_, _, detail)| !detail.contains(secret)));
    }
}

#[tokio::test]
async fn invalid_users_are_refused_with_the_reason() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let err = refused(
        d,
        &["user", "add", "mentor1", "--name", "M", "--role", "mentor"],
        None,
    );
    assert!(err.contains("minstens één klas"), "{err}");
    let err = refused(
        d,
        &[
            "user",
            "add",
            "coord",
            "--name",
            "C",
            "--role",
            "verzuimcoordinator",
            "--class",
            "2B",
        ],
        None,
    );
    assert!(err.contains("alleen een mentor heeft klassen"), "{err}");
    let err = refused(
        d,
        &["user", "add", "Jan", "--name", "J", "--role", "beheerder"],
        None,
    );
    assert!(err.contains("kleine letters"), "{err}");
    let err = refused(
        d,
        &["user", "add", "j", "--name", "J", "--role", "beheerder"],
        None,
    );
    assert!(err.contains("2 tot 64"), "{err}");
    let err = refused(
        d,
        &["user", "add", "jan", "--name", "J", "--role", "directeur"],
        None,
    );
    assert!(err.contains("onbekende rol"), "{err}");
    let err = refused(
        d,
        &[
            "user",
            "add",
            "jan",
            "--name",
            "J",
            "--role",
            "beheerder",
            "--password-stdin",
        ],
        Some("aaaaaaaaaaaaaaaa\n"),
    );
    assert!(err.contains("hetzelfde teken"), "{err}");
    let err = refused(
        d,
        &[
            "user",
            "add",
            "jan.de.vries.2b",
            "--name",
            "J",
            "--role",
            "beheerder",
            "--password-stdin",
        ],
        Some("Jan.de.Vries.2B\n"),
    );
    assert!(
        err.contains("niet gelijk zijn aan de gebruikersnaam"),
        "{err}"
    );
    let err = refused(
        d,
        &[
            "user",
            "add",
            "jan",
            "--name",
            "J",
            "--role",
            "beheerder",
            "--email",
            "geen-adres",
        ],
        None,
    );
    assert!(err.contains("geen e-mailadres"), "{err}");

    let store = open_store(d).await;
    assert_eq!(store.user_count().await.unwrap(), 0);
    assert!(store
        .audit_log(&AuditFilter::default())
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn set_changes_fields_and_blocking_ends_sessions() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "user", "add", "jan", "--name", "Jan", "--role", "mentor", "--class", "2B",
        ],
        None,
    );
    let err = refused(d, &["user", "set", "jan"], None);
    assert!(err.contains("niets te wijzigen"), "{err}");
    let err = refused(
        d,
        &["user", "set", "jan", "--role", "verzuimcoordinator"],
        None,
    );
    assert!(err.contains("--clear-classes"), "{err}");

    let out = ok(
        d,
        &[
            "user",
            "set",
            "jan",
            "--class",
            "4C",
            "--class",
            "5D",
            "--email",
            "jan@school.nl",
        ],
        None,
    );
    assert!(out.contains("klassen 2B → 4C, 5D"), "{out}");
    let out = ok(
        d,
        &[
            "user",
            "set",
            "jan",
            "--role",
            "verzuimcoordinator",
            "--clear-classes",
            "--name",
            "Jan de Vries",
        ],
        None,
    );
    assert!(out.contains("rol mentor → verzuimcoördinator"), "{out}");
    let out = ok(d, &["user", "set", "jan", "--name", "Jan de Vries"], None);
    assert!(out.contains("Niets gewijzigd"), "{out}");

    let store = open_store(d).await;
    let at = Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap();
    store
        .create_session(&SessionRecord {
            id_hash: aanwezig_auth::token_hash("cookie"),
            username: "jan".to_owned(),
            csrf_token: "csrf".to_owned(),
            created_at: at,
            last_seen_at: at,
        })
        .await
        .unwrap();
    store.close().await;

    let out = ok(
        d,
        &["user", "set", "jan", "--active", "false", "--email", ""],
        None,
    );
    assert!(
        out.contains("actief ja → nee") && out.contains("1 sessie"),
        "{out}"
    );
    let list = ok(d, &["user", "list"], None);
    let row = list.lines().find(|l| l.contains("jan")).unwrap();
    assert!(row.contains("nee") && row.contains("Jan de Vries"), "{row}");

    let store = open_store(d).await;
    let jan = store.user("jan").await.unwrap().unwrap();
    assert_eq!(jan.role, Role::Verzuimcoordinator);
    assert!(jan.classes.is_empty());
    assert_eq!(jan.email, None);
    assert!(!jan.active);
    assert_eq!(
        store
            .session(&aanwezig_auth::token_hash("cookie"))
            .await
            .unwrap(),
        None
    );
    store.close().await;

    // Add, three real changes; refusals and the no-op are not logged.
    let log = audit_details(d).await;
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[3].2.contains("actief ja → nee"), "{log:?}");
}

/// `user remove` ends the removed partner's involvements in the case
/// dossiers (on `--today`, in each case's trail, audited as a change by the
/// remover), and a new account with the same username gets a new account
/// id and none of the old one's access.
#[tokio::test]
async fn removing_a_partner_ends_their_involvements_and_a_new_namesake_gets_none() {
    use aanwezig_domain::case::{Actor, OpenReason};
    use aanwezig_domain::{Case, CaseStep, Student, StudentId};
    use aanwezig_storage::StoredStudent;
    use chrono::NaiveDate;

    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let add = [
        "user",
        "add",
        "kp_old",
        "--name",
        "Karel Oud",
        "--role",
        "ketenpartner",
    ];
    ok(d, &add, None);

    let day = |m, n| NaiveDate::from_ymd_opt(2025, m, n).unwrap();
    let sid = StudentId::parse("1001").unwrap();
    let store = open_store(d).await;
    let old = store.user("kp_old").await.unwrap().unwrap();
    store
        .upsert_students(&[StoredStudent {
            student: Student {
                id: sid.clone(),
                name: "Leerling Een".into(),
                class: "2B".into(),
                mentor: "mentor".into(),
                date_of_birth: day(1, 1),
                bsn: None,
                onderwijsnummer: None,
            },
            left_on: None,
        }])
        .await
        .unwrap();
    let coordinator = Actor::new("coordinator", Role::Verzuimcoordinator);
    let mut case = Case::open(
        sid.clone(),
        day(10, 6),
        coordinator.clone(),
        OpenReason::Zorgen {
            note: "zorgen".into(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    // Brought in after the account was made (today, by the real clock).
    let on = old.created_on().max(day(10, 6));
    case.decide(aanwezig_domain::case::Decision {
        on,
        by: coordinator.clone(),
        kind: aanwezig_domain::case::DecisionKind::VoWij { consent: true },
        parties: vec![aanwezig_domain::case::Party::Ouders],
        note: String::new(),
    })
    .unwrap();
    case.involve(&old.identity(), Role::Ketenpartner, on, coordinator)
        .unwrap();
    let saved_at = Utc.with_ymd_and_hms(2025, 10, 6, 9, 0, 0).unwrap();
    store
        .save_case(&case, "coordinator", saved_at)
        .await
        .unwrap();
    store.close().await;

    let removal_day = on.succ_opt().unwrap();
    let today = removal_day.to_string();
    let out = ok(d, &["--today", &today, "user", "remove", "kp_old"], None);
    assert!(out.contains("Gebruiker kp_old verwijderd"), "{out}");
    assert!(out.contains("Niet meer betrokken bij 1 dossier"), "{out}");

    let store = open_store(d).await;
    let case = store.case(&sid).await.unwrap().unwrap();
    assert_eq!(case.involved[0].until, Some(removal_day));
    assert!(case
        .trail_nl()
        .iter()
        .any(|t| t.on == removal_day && t.what_nl == "kp_old niet meer betrokken"));
    let versions = store.case_versions(&sid).await.unwrap();
    assert_eq!(versions.last().map(|v| v.saved_by.as_str()), Some("tester"));
    let changes = store
        .audit_log(&AuditFilter {
            student: Some(sid.clone()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].action, AuditAction::Change);
    assert_eq!(changes[0].username, "tester");
    store.close().await;

    ok(d, &add, None);
    let store = open_store(d).await;
    let new = store.user("kp_old").await.unwrap().unwrap();
    assert_ne!(new.account_id, old.account_id);
    assert!(!case.involves(&new.identity()));
    store.close().await;
    let log = audit_details(d).await;
    assert!(
        log.iter().any(|(by, action, detail)| by == "tester"
            && *action == AuditAction::UserAdmin
            && detail.contains("kp_old")
            && detail.contains("niet meer betrokken bij 1 dossier")),
        "{log:?}"
    );
}
