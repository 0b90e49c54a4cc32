//! `aanwezig restore FILE`: puts a backup back as the database. The work
//! and every check are the storage crate's
//! ([`aanwezig_storage_sqlite::SqliteStore::restore`]): refused while a server or
//! another command has the database open, and for a damaged, foreign or
//! newer file; the replaced database is kept beside it.

use crate::session::Database;
use std::path::PathBuf;

use aanwezig_domain::explain::counted_nl;
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{DateTime, Utc};
use clap::Args;

use crate::commands::backup::{dutch, holds, size};

/// `aanwezig restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Het back-upbestand om terug te zetten (gemaakt met aanwezig backup).
    #[arg(value_name = "BESTAND")]
    pub file: PathBuf,
}

pub async fn run(db: &Database, args: &RestoreArgs, now: DateTime<Utc>) -> anyhow::Result<()> {
    let db = db.file("aanwezig restore")?;
    let report = SqliteStore::restore(db, &args.file, now)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "herstel geweigerd: {}; de database is niet veranderd",
                dutch(&e, db)
            )
        })?;
    let b = &report.backup;
    println!(
        "Hersteld: {} is nu de back-up {} ({}).",
        db.display(),
        b.path.display(),
        size(b.bytes)
    );
    println!("{}", holds(b));
    if report.migrations_applied > 0 {
        println!(
            "  De back-up had een ouder schema: {} uitgevoerd.",
            counted_nl(report.migrations_applied as u64, "migratie", "migraties")
        );
    }
    match &report.previous {
        Some(p) => println!(
            "De vorige database staat nu in {}; verwijder die pas als alles klopt.",
            p.display()
        ),
        None => println!("Er was nog geen database op deze plek."),
    }
    Ok(())
}
