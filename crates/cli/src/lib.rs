//! The `aanwezig` command line: import, evaluate, demo, serve, users,
//! purge, backup and restore.
//!
//! One clap [`Command`] enum; each variant's work lives in
//! [`commands`]. Errors are `anyhow` here (style.md's error policy: typed
//! errors in the libraries, `anyhow` at the edge), always in Dutch and with
//! the file, line and field of the problem where there is one.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod commands;
pub mod presets;
mod render;
pub mod session;

/// aanwezig — het stappenplan bij verminderde aanwezigheid als software.
#[derive(Debug, Parser)]
#[command(name = "aanwezig", version, about, long_about = None)]
pub struct Cli {
    /// De database: een SQLite-bestand, of een PostgreSQL-server
    /// (postgres://gebruiker@host/database).
    #[arg(
        long,
        global = true,
        env = "AANWEZIG_DB",
        default_value = "aanwezig.db"
    )]
    pub db: session::Database,
    /// Doe alsof het vandaag deze datum is (JJJJ-MM-DD); standaard de echte datum.
    #[arg(long, global = true, env = "AANWEZIG_TODAY")]
    pub today: Option<NaiveDate>,
    #[command(subcommand)]
    pub command: Command,
}

/// What `aanwezig` can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lees kalender, beleid, leerlingen en registraties in de database in.
    Import(ImportArgs),
    /// Pas de regels van het stappenplan toe en toon de signalen.
    Evaluate(EvaluateArgs),
    /// Maak een realistische demoschool, lees die in en toon de signalen van deze week.
    Demo(DemoArgs),
    /// Start de webapp op dezelfde database.
    Serve(commands::serve::ServeArgs),
    /// Beheer de gebruikers die kunnen inloggen.
    User(commands::user::UserArgs),
    /// Verwijder de gegevens van leerlingen die langer dan de bewaartermijn (5 jaar) weg zijn.
    Purge(commands::purge::PurgeArgs),
    /// Maak een back-up van de database, ook terwijl de server draait.
    Backup(commands::backup::BackupArgs),
    /// Zet een back-up terug als database (alleen als de server niet draait).
    Restore(commands::restore::RestoreArgs),
    /// Zet de hele school over naar een andere, lege database (bijvoorbeeld van SQLite naar PostgreSQL).
    Migrate(commands::migrate::MigrateArgs),
}

/// `aanwezig import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Kalenderbestand (TOML); mag vaker, één per schooljaar.
    #[arg(long = "calendar", value_name = "BESTAND")]
    pub calendars: Vec<PathBuf>,
    /// Schoolvakanties uit de open data van de Rijksoverheid (JSON).
    #[arg(long, value_name = "BESTAND")]
    pub rijksoverheid: Option<PathBuf>,
    /// Regio voor de Rijksoverheid-vakanties: noord, midden of zuid.
    #[arg(long, default_value = "noord", requires = "rijksoverheid")]
    pub region: String,
    /// Beleidsbestand (TOML) met drempels en de codes van de school.
    #[arg(long, value_name = "BESTAND")]
    pub policy: Option<PathBuf>,
    /// Leerlingen (CSV of XLSX).
    #[arg(long, value_name = "BESTAND")]
    pub students: Option<PathBuf>,
    /// Registraties per les (CSV of XLSX); mag vaker.
    #[arg(long = "registrations", value_name = "BESTAND")]
    pub registrations: Vec<PathBuf>,
    /// Het lesrooster per klas of leerling (CSV of XLSX); vervangt het
    /// opgeslagen rooster (elke versie blijft bewaard).
    #[arg(long, value_name = "BESTAND")]
    pub timetable: Option<PathBuf>,
    /// Uit welk systeem de registraties komen: canonical (aanwezig, één
    /// regel per les), magister (afwezigheid per les) of somtoday
    /// (absentiemeldingen per periode). Standaard: wat in Instellingen →
    /// Import is opgeslagen, anders canonical.
    #[arg(long, value_enum, value_name = "SYSTEEM")]
    pub format: Option<ExportFormat>,
    /// Bevatten de bestanden alleen afwezigheid (implied) of ook de lessen
    /// waarin de leerling er was (registered)? Standaard: implied bij
    /// magister en somtoday, anders wat het beleid zegt.
    #[arg(long, value_enum, value_name = "AANWEZIGHEID")]
    pub presence: Option<PresenceArg>,
    /// Eerste dag die de export beslaat (alleen afwezigheid): een
    /// opgeslagen afwezigheid vanaf deze dag die niet meer in het bestand
    /// staat, wordt aanwezig. Standaard de eerste datum in het bestand.
    #[arg(long, value_name = "DATUM", requires = "registrations")]
    pub from: Option<NaiveDate>,
    /// Laatste dag die de export beslaat (standaard de laatste datum in
    /// het bestand); ook het einde van een periode zonder einddatum.
    #[arg(long, value_name = "DATUM", requires = "registrations")]
    pub until: Option<NaiveDate>,
    /// Voeg codes die niet in het beleid staan, maar waarvan de categorie
    /// uit soort en geoorloofd volgt, aan het beleid toe.
    #[arg(long, requires = "registrations")]
    pub add_codes: bool,
    /// Wie importeert (voor de geschiedenis); standaard de gebruikersnaam.
    #[arg(long, env = "USER", default_value = "beheerder")]
    pub by: String,
}

/// The system a registrations file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// aanwezig's eigen kolommen, één regel per les.
    Canonical,
    /// Magister: afwezigheid per les (stamnr, datum, lesuur, code).
    Magister,
    /// Somtoday: absentiemeldingen per periode.
    Somtoday,
}

impl From<ExportFormat> for aanwezig_import::Format {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Canonical => aanwezig_import::Format::Canonical,
            ExportFormat::Magister => aanwezig_import::Format::Magister,
            ExportFormat::Somtoday => aanwezig_import::Format::Somtoday,
        }
    }
}

/// What a registrations file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresenceArg {
    /// Alle lessen, ook die waarin de leerling er was.
    Registered,
    /// Alleen afwezigheid en te laat komen.
    Implied,
}

impl From<PresenceArg> for aanwezig_domain::Presence {
    fn from(p: PresenceArg) -> Self {
        match p {
            PresenceArg::Registered => aanwezig_domain::Presence::Registered,
            PresenceArg::Implied => aanwezig_domain::Presence::Implied,
        }
    }
}

/// Output format of `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Een leesbare tabel.
    Table,
    /// JSON, zie docs/signals-json.md.
    Json,
}

/// Which signals `evaluate` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    /// Signalen die in de lesweek van de peildatum begonnen.
    Week,
    /// Alle signalen die op de peildatum openstaan.
    Open,
    /// Alle signalen tot en met de peildatum.
    All,
}

/// `aanwezig evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Peildatum (JJJJ-MM-DD); standaard vandaag.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Uitvoer: table of json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Welke signalen: week, open of all.
    #[arg(long, value_enum, default_value_t = Scope::Week)]
    pub scope: Scope,
    /// Alleen deze leerling (leerlingnummer).
    #[arg(long)]
    pub student: Option<String>,
    /// Werk met bestanden in plaats van de database: kalender (TOML).
    #[arg(long = "calendar", value_name = "BESTAND", requires = "registrations")]
    pub calendars: Vec<PathBuf>,
    /// Werk met bestanden: leerlingen (CSV/XLSX).
    #[arg(long, value_name = "BESTAND", requires = "registrations")]
    pub students: Option<PathBuf>,
    /// Werk met bestanden: registraties (CSV/XLSX); zonder database.
    #[arg(long = "registrations", value_name = "BESTAND", requires_all = ["calendars", "students"])]
    pub registrations: Vec<PathBuf>,
    /// Werk met bestanden: beleid (TOML); standaard het Magister-voorbeeldbeleid.
    #[arg(long, value_name = "BESTAND", requires = "registrations")]
    pub policy: Option<PathBuf>,
    /// Werk met bestanden: het lesrooster per klas of leerling (CSV/XLSX);
    /// telt mee bij `presence = "implied"` in het beleid.
    #[arg(long, value_name = "BESTAND", requires = "registrations")]
    pub timetable: Option<PathBuf>,
    /// Uit welk systeem de registratiebestanden komen (zie `import --format`).
    #[arg(long, value_enum, value_name = "SYSTEEM", requires = "registrations")]
    pub registrations_format: Option<ExportFormat>,
}

/// `aanwezig demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Aantal leerlingen.
    #[arg(long, default_value_t = 2000)]
    pub students: usize,
    /// Startgetal van de toevalsgenerator (zelfde getal, zelfde school).
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Map voor de demobestanden.
    #[arg(long, default_value = "demo-school")]
    pub out: PathBuf,
    /// Registraties tot en met deze datum; standaard vandaag.
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Alleen de bestanden schrijven, niet inlezen en niet evalueren.
    #[arg(long)]
    pub no_import: bool,
}

/// Runs a parsed command. `local_today` and `now` come from the caller so
/// that nothing below reads a clock.
pub async fn run(cli: Cli, local_today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<()> {
    let today = cli.today.unwrap_or(local_today);
    match cli.command {
        Command::Import(args) => commands::import::run(&cli.db, &args, today, now)
            .await
            .map(|_| ()),
        Command::Evaluate(args) => commands::evaluate::run(&cli.db, &args, today).await,
        Command::Demo(args) => commands::demo::run(&cli.db, &args, today, now).await,
        Command::Serve(args) => commands::serve::run(&cli.db, &args, today, cli.today, now).await,
        Command::User(args) => commands::user::run(&cli.db, &args, today, now).await,
        Command::Purge(args) => commands::purge::run(&cli.db, &args, today, now).await,
        Command::Backup(args) => commands::backup::run(&cli.db, &args).await,
        Command::Restore(args) => commands::restore::run(&cli.db, &args, now).await,
        Command::Migrate(args) => commands::migrate::run(&args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
