//! `aanwezig serve`: the web app on the same database as the command line.
//! With `--demo`, an empty database is first filled with the demo school and
//! demo accounts.

use crate::session::Database;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aanwezig_app::import_dir::ImportDirStatus;
use aanwezig_domain::{Role, StudentId};
use aanwezig_storage::{Store, User};
use aanwezig_web::{AppState, Config, PublicUrl, SystemClock, TrustedProxy};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use crate::commands::{demo, import_dir};
use crate::session;

/// `aanwezig serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Adres en poort om op te luisteren.
    #[arg(long, env = "AANWEZIG_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Vul een lege database eerst met de demoschool en demo-accounts.
    #[arg(long)]
    pub demo: bool,
    /// Aantal leerlingen van de demoschool.
    #[arg(long, default_value_t = 2000)]
    pub demo_students: usize,
    /// Markeer het sessiecookie als Secure (achter HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Log uit na zoveel minuten zonder activiteit.
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: i64,
    /// Log na zoveel uur na het inloggen altijd uit, ook bij activiteit.
    #[arg(long, default_value_t = 12)]
    pub session_hours: i64,
    /// Een reverse proxy (adres of netwerk, bijvoorbeeld 10.0.0.5 of
    /// 10.0.0.0/24) waarvan X-Forwarded-For het adres van de gebruiker
    /// geeft. Mag vaker. Zonder deze optie telt het adres van de verbinding.
    #[arg(long = "trusted-proxy", value_name = "ADRES")]
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Het adres waarop gebruikers aanwezig openen, bijvoorbeeld
    /// https://aanwezig.school.nl: voor agenda-adressen en de controle dat
    /// formulieren van aanwezig zelf komen.
    #[arg(long, env = "AANWEZIG_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<PublicUrl>,
    /// Maak elke dag een back-up in deze map (aanwezig-JJJJ-MM-DD.db), bij de start als die van vandaag ontbreekt.
    #[arg(long, value_name = "MAP", env = "AANWEZIG_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Zoveel dagelijkse back-ups bewaren; oudere worden verwijderd.
    #[arg(long, value_name = "AANTAL", default_value_t = 7, requires = "backup_dir",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
    /// Lees bestanden in die het administratiesysteem in deze map zet
    /// (registraties; leerlingen… en rooster… naar hun naam), elk alles of
    /// niets met de opgeslagen importinstellingen; daarna naar verwerkt/ of
    /// fout/. Zie docs/operations.md.
    #[arg(long, value_name = "MAP", env = "AANWEZIG_IMPORT_DIR")]
    pub import_dir: Option<PathBuf>,
    /// Hoe vaak de importmap bekeken wordt, in milliseconden.
    #[arg(long, value_name = "MS", default_value_t = 10_000, hide = true,
          env = "AANWEZIG_IMPORT_POLL_MS",
          value_parser = clap::value_parser!(u64).range(10..))]
    pub import_poll_ms: u64,
}

/// The demo accounts: user name, display name, role, classes.
fn demo_accounts(school: &aanwezig_demo::DemoSchool) -> Vec<(String, String, Role, Vec<String>)> {
    let mut accounts = vec![
        (
            "beheer".to_owned(),
            "Bea Beheer".to_owned(),
            Role::Beheerder,
            vec![],
        ),
        (
            "coordinator".to_owned(),
            "Vera Verzuim".to_owned(),
            Role::Verzuimcoordinator,
            vec![],
        ),
        (
            "zorg".to_owned(),
            "Olaf Ondersteuning".to_owned(),
            Role::Ondersteuningscoordinator,
            vec![],
        ),
    ];
    for (username, name, role) in crate::commands::demo_cases::PARTNERS {
        accounts.push((username.to_owned(), name.to_owned(), role, vec![]));
    }
    for m in school.mentor_accounts() {
        accounts.push((
            m.username.clone(),
            m.display_name.clone(),
            Role::Mentor,
            m.classes.clone(),
        ));
    }
    accounts
}

/// Fills an empty database with the demo school and accounts; prints them.
async fn fill_demo(
    store: &dyn Store,
    students: usize,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let school = demo::load_demo(store, students, 2026, today, now).await?;
    let password = aanwezig_auth::generate_password();
    let hash = aanwezig_auth::hash_password(&password)?;
    let accounts = demo_accounts(&school);
    for (username, display_name, role, classes) in &accounts {
        store
            .create_user(&User {
                username: username.clone(),
                display_name: display_name.clone(),
                role: *role,
                classes: classes.clone(),
                email: Some(format!("{username}@demoschool.example")),
                active: true,
                password_hash: hash.clone(),
                created_at: now,
                account_id: String::new(),
            })
            .await?;
    }
    let cases = crate::commands::demo_cases::seed(store, today, now).await?;
    println!(
        "Demodossiers: {} dossiers geopend op signalen van de demoschool.",
        cases.len()
    );
    let example_student: Option<&StudentId> = school.students.first().map(|s| &s.id);
    println!("\nDemo-accounts (allemaal met wachtwoord: {password})");
    for (username, _, role, classes) in accounts.iter().take(7) {
        let classes = if classes.is_empty() {
            String::new()
        } else {
            format!(" — klas {}", classes.join(", "))
        };
        println!("  {username:<14} {}{classes}", role.label_nl());
    }
    println!(
        "  … en een mentor per klas (mentor_1a, mentor_2b, …), {} accounts in totaal.",
        accounts.len()
    );
    if let Some(id) = example_student {
        println!("  Voorbeeldleerling: {id}");
    }
    if let Some(id) = cases.first() {
        println!("  Voorbeelddossier: {id}");
    }
    Ok(())
}

/// Runs the web app until the process is stopped.
pub async fn run(
    db: &Database,
    args: &ServeArgs,
    today: NaiveDate,
    today_fixed: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // Backups of a file are this server's daily job; PostgreSQL has its own
    // tools for that (pg_dump), so the flag is refused there.
    let (store, backup_source): (Arc<dyn Store>, Option<Arc<dyn aanwezig_storage::Backup>>) =
        match db {
            Database::File(path) => {
                let file = Arc::new(session::open_file(path, true).await?);
                (file.clone(), Some(file))
            }
            Database::Postgres(_) => {
                if args.backup_dir.is_some() {
                    db.file("--backup-dir")?;
                }
                (session::open_store(db).await?, None)
            }
        };
    if args.demo {
        if store.student_count().await? == 0 && store.user_count().await? == 0 {
            fill_demo(store.as_ref(), args.demo_students, today, now).await?;
        } else {
            println!(
                "De database {} heeft al gegevens: --demo laat die ongemoeid.",
                db
            );
        }
    }
    let config = Config {
        secure_cookies: args.secure_cookies,
        idle_timeout: chrono::Duration::minutes(args.idle_minutes.max(1)),
        session_lifetime: chrono::Duration::hours(args.session_hours.max(1)),
        trusted_proxies: args.trusted_proxies.clone(),
        public_url: args.public_url.clone(),
    };
    // Refuse a bad import folder before anything runs.
    if let Some(dir) = &args.import_dir {
        import_dir::prepare(dir)?;
    }
    let mut state = AppState::new(store, Arc::new(SystemClock { today: today_fixed }), config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = &args.import_dir {
        let interval = Duration::from_millis(args.import_poll_ms);
        let status = Arc::new(ImportDirStatus::new(dir.clone(), interval));
        state.import_dir = Some(status.clone());
        tokio::spawn(import_dir::run(
            import_dir::Watcher::new(status),
            Arc::new(state.clone()),
            interval,
        ));
        println!(
            "Importmap: {} (elke {} s bekeken; ingelezen bestanden naar verwerkt/, afgekeurde naar fout/).",
            dir.display(),
            interval.as_secs_f64()
        );
    }
    if let (Some(dir), Some(backup_source)) = (&args.backup_dir, backup_source) {
        let schedule = aanwezig_web::jobs::BackupSchedule {
            dir: dir.clone(),
            keep: args.backup_keep as usize,
            source: backup_source,
        };
        tokio::spawn(aanwezig_web::jobs::run_backups(
            schedule,
            state.clock.clone(),
        ));
        println!(
            "Dagelijkse back-up in {} (de laatste {} worden bewaard).",
            dir.display(),
            args.backup_keep
        );
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("luisteren op {}", args.addr))?;
    println!(
        "\naanwezig draait op http://{} (database {}). Stoppen met Ctrl+C.",
        listener.local_addr()?,
        db
    );
    aanwezig_web::serve(listener, state).await?;
    Ok(())
}
