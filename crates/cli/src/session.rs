//! Loading a school for evaluation: from the database or from files alone.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use aanwezig_domain::{Calendar, Policy, School, SchoolBuilder, Student};
use aanwezig_storage::Store;
use aanwezig_storage_postgres::PgStore;
use aanwezig_storage_sqlite::SqliteStore;
use anyhow::{bail, Context};

use crate::presets;

/// Everything the engine needs about one school.
pub struct Loaded {
    pub cal: Calendar,
    pub policy: Policy,
    pub school: School,
}

/// The database `--db` (or `AANWEZIG_DB`) names: an SQLite file (a path,
/// or a `sqlite:` URL) or a PostgreSQL server (`postgres://…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file: the default for a single school.
    File(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
}

impl FromStr for Database {
    type Err = String;

    fn from_str(s: &str) -> Result<Database, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("geef een databasebestand of een postgres://-adres".to_owned());
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Database::Postgres(s.to_owned()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        Ok(Database::File(PathBuf::from(path)))
    }
}

impl fmt::Display for Database {
    /// The file's path, or the server's URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::File(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// `url` with the password (if any) replaced by `***`, for messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl Database {
    /// Whether the database exists: the file is there (a server is asked
    /// when it is opened).
    pub fn exists(&self) -> bool {
        match self {
            Database::File(path) => path.exists(),
            Database::Postgres(_) => true,
        }
    }

    /// The SQLite file, for what only a file can do (backup, restore);
    /// a Dutch error for PostgreSQL that says what to use instead.
    pub fn file(&self, what: &str) -> anyhow::Result<&Path> {
        match self {
            Database::File(path) => Ok(path),
            Database::Postgres(_) => bail!(
                "{what} werkt alleen met een SQLite-bestand; maak bij PostgreSQL een \
                 back-up met pg_dump en zet die terug met pg_restore (docs/operations.md)"
            ),
        }
    }
}

/// Opens the database, creating it (and running migrations) when needed.
pub async fn open_store(db: &Database) -> anyhow::Result<Arc<dyn Store>> {
    open(db, true).await
}

/// Opens an existing database (and runs pending migrations).
pub async fn open_existing(db: &Database) -> anyhow::Result<Arc<dyn Store>> {
    open(db, false).await
}

async fn open(db: &Database, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    match db {
        Database::File(path) => Ok(Arc::new(open_file(path, create).await?)),
        Database::Postgres(url) => open_postgres(url).await,
    }
}

async fn open_postgres(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(connect_postgres(url).await?))
}

/// Connects to a PostgreSQL database (and runs pending migrations).
pub async fn connect_postgres(url: &str) -> anyhow::Result<PgStore> {
    PgStore::connect(url)
        .await
        .with_context(|| format!("database {} openen", without_password(url)))
}

/// A database opened for `aanwezig migrate`: the store, and the same
/// database as a [`Transfer`](aanwezig_storage::Transfer).
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub transfer: Arc<dyn aanwezig_storage::Transfer>,
}

/// Opens a database for a migration (creating an SQLite file when
/// `create`).
pub async fn open_transfer(db: &Database, create: bool) -> anyhow::Result<Opened> {
    match db {
        Database::File(path) => {
            let file = Arc::new(open_file(path, create).await?);
            Ok(Opened {
                store: file.clone(),
                transfer: file,
            })
        }
        Database::Postgres(url) => {
            let pg = Arc::new(connect_postgres(url).await?);
            Ok(Opened {
                store: pg.clone(),
                transfer: pg,
            })
        }
    }
}

/// Opens an SQLite file.
pub async fn open_file(path: &Path, create: bool) -> anyhow::Result<SqliteStore> {
    match SqliteStore::open(&path.to_string_lossy(), create).await {
        Err(aanwezig_storage::StoreError::Locked(_)) => bail!(
            "de database {} wordt op dit moment hersteld (aanwezig restore); probeer het zo opnieuw",
            path.display()
        ),
        other => other.with_context(|| format!("database {} openen", path.display())),
    }
}

/// Loads calendar, policy, students and registrations from the database.
pub async fn from_store(store: &dyn Store) -> anyhow::Result<Loaded> {
    let loaded = aanwezig_storage::load_school(store).await?;
    let Some(cal) = loaded.calendar else {
        bail!("de database heeft nog geen kalender: lees er een in met `aanwezig import --calendar BESTAND`");
    };
    let Some(policy) = loaded.policy else {
        bail!("de database heeft nog geen beleid: lees er een in met `aanwezig import --policy BESTAND`");
    };
    Ok(Loaded {
        cal,
        policy,
        school: loaded.school,
    })
}

/// Reads a policy file, or the Magister preset when none is given.
pub fn read_policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    match path {
        Some(p) => {
            let text = read_text(p)?;
            Ok(aanwezig_import::parse_policy(
                &text,
                &p.display().to_string(),
            )?)
        }
        None => Ok(aanwezig_import::parse_policy(
            presets::POLICY_MAGISTER,
            "magister.toml (ingebouwd)",
        )?),
    }
}

/// Reads a file as UTF-8 text, with its name in the error.
pub fn read_text(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("{} lezen", p.display()))
}

fn is_xlsx(p: &Path) -> bool {
    aanwezig_import::is_workbook(p)
}

/// Reads a students file (CSV or XLSX).
pub fn read_students(p: &Path) -> anyhow::Result<Vec<aanwezig_import::StudentRow>> {
    let name = p.display().to_string();
    if is_xlsx(p) {
        return Ok(aanwezig_import::read_students_xlsx(p)?);
    }
    let f = std::fs::File::open(p).with_context(|| format!("{name} openen"))?;
    Ok(aanwezig_import::read_students(
        std::io::BufReader::new(f),
        &name,
    )?)
}

/// Loads a school from files only: no database involved. Registrations
/// are read as `settings` says (their format), and the policy's
/// `presence` follows the format (Magister and Somtoday hold absences
/// only); a period without an end lasts until `today`.
pub fn from_files(
    calendars: &[PathBuf],
    students: &Path,
    registrations: &[PathBuf],
    policy: Option<&Path>,
    timetable: Option<&Path>,
    settings: &aanwezig_import::ImportSettings,
    today: chrono::NaiveDate,
) -> anyhow::Result<Loaded> {
    let cal = aanwezig_import::load_calendar(calendars)?;
    let mut policy = read_policy(policy)?;
    policy.presence = settings.presence(policy.presence);
    let rows = read_students(students)?;
    let students: Vec<Student> = rows.into_iter().map(|r| r.student).collect();
    let timetable = match timetable {
        Some(p) => Some(aanwezig_import::read_timetable_file(p, &cal)?),
        None => None,
    };
    let weeks = week_schedules(timetable.as_ref(), &students);
    let ids: std::collections::HashSet<String> =
        students.iter().map(|s| s.id.as_str().to_owned()).collect();
    let known = |id: &str| ids.contains(id);
    let week_of = |id: &str| weeks.get(id).cloned();
    let options = aanwezig_import::ReadOptions {
        settings,
        week_of: Some(&week_of),
        open_until: Some(today),
    };
    // Read straight into the engine's compact form (eight bytes a lesson,
    // no allocation per row); a student's lessons from several files are
    // merged and sorted once at the end.
    let mut builder = SchoolBuilder::new(students);
    for p in registrations {
        for (id, lessons) in
            aanwezig_import::read_registrations_compact(p, &cal, &policy, options, known)?
        {
            builder.add_lessons(&id, lessons)?;
        }
    }
    let mut school = builder.finish();
    if let Some(t) = &timetable {
        school.set_timetable(t);
    }
    Ok(Loaded {
        cal,
        policy,
        school,
    })
}

/// Each student's week from the timetable, by student number: what a
/// Somtoday period is expanded over. Empty without a timetable.
pub fn week_schedules(
    timetable: Option<&aanwezig_domain::Timetable>,
    students: &[Student],
) -> std::collections::HashMap<String, aanwezig_domain::WeekSchedule> {
    let Some(t) = timetable else {
        return std::collections::HashMap::new();
    };
    students
        .iter()
        .map(|s| (s.id.as_str().to_owned(), t.for_student(s)))
        .filter(|(_, w)| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_a_file_or_a_postgres_url() {
        let parse = |s: &str| s.parse::<Database>().expect("parses");
        assert_eq!(parse("aanwezig.db"), Database::File("aanwezig.db".into()));
        assert_eq!(
            parse("sqlite:///tmp/a.db"),
            Database::File("/tmp/a.db".into())
        );
        assert_eq!(parse("sqlite:a.db"), Database::File("a.db".into()));
        assert_eq!(
            parse("postgres://u@localhost/school"),
            Database::Postgres("postgres://u@localhost/school".into())
        );
        assert_eq!(
            parse("postgresql://u@h/s"),
            Database::Postgres("postgresql://u@h/s".into())
        );
        assert!("  ".parse::<Database>().is_err());
    }

    #[test]
    fn a_password_never_shows() {
        let db: Database = "postgres://school:geheim@db.example/aanwezig"
            .parse()
            .expect("parses");
        assert_eq!(db.to_string(), "postgres://school:***@db.example/aanwezig");
        let db: Database = "postgres://school@db.example/aanwezig"
            .parse()
            .expect("parses");
        assert_eq!(db.to_string(), "postgres://school@db.example/aanwezig");
        assert!(db.file("aanwezig backup").is_err());
    }
}
