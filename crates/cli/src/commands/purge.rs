//! `aanwezig purge`: the retention rule by hand. Attendance and case data
//! are kept five years after a student leaves, then removed (product.md).
//!
//! The use case is `aanwezig_app::retention`, shared with the web server's
//! daily job; this command lists what is due, and without `--dry-run`
//! purges it and writes one audit entry (`purge`) per student under `--by`
//! (the command line's actor).

use crate::session::Database;

use aanwezig_app::retention;
use aanwezig_app::Actor;
use aanwezig_domain::explain::{count_nl, counted_nl};
use aanwezig_storage::{Store, StoredStudent};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

/// `aanwezig purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Toon alleen wat verwijderd zou worden; verwijder niets.
    #[arg(long)]
    pub dry_run: bool,
    /// Bewaartermijn in jaren na uitschrijving.
    #[arg(long, default_value_t = retention::YEARS, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: u32,
    /// Wie verwijdert (voor het auditlog); standaard de gebruikersnaam van het systeem.
    #[arg(long, value_name = "WIE", env = "USER", default_value = "beheerder")]
    pub by: String,
}

fn describe(s: &StoredStudent) -> String {
    let left = s.left_on.map_or_else(String::new, |d| d.to_string());
    format!(
        "{} {} (klas {}, uitgeschreven {left})",
        s.student.id, s.student.name, s.student.class
    )
}

pub async fn run(
    db: &Database,
    args: &PurgeArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let store = crate::session::open_existing(db).await?;
    let result = purge(store.as_ref(), args, today, now).await;
    store.close().await;
    result
}

async fn purge(
    store: &dyn Store,
    args: &PurgeArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let actor = Actor::command_line(&args.by);
    let cutoff = retention::cutoff(today, args.years)?;
    println!(
        "Bewaartermijn {} jaar: gegevens van leerlingen die vóór {cutoff} zijn uitgeschreven, worden verwijderd.",
        args.years
    );
    if args.dry_run {
        let due = retention::due(store, &actor, today, args.years)
            .await
            .map_err(super::app_error)?;
        for d in &due {
            println!(
                "  {}: {}, {}, {} dossier, {}",
                describe(&d.student),
                counted_nl(d.registrations, "registratie", "registraties"),
                counted_nl(d.history, "eerdere stand", "eerdere standen"),
                if d.has_case { "met" } else { "zonder" },
                counted_nl(d.meldingen, "DUO-melding", "DUO-meldingen")
            );
        }
        println!(
            "Proefdraai: {} verwijderd; er is niets verwijderd.",
            if due.len() == 1 {
                "1 leerling zou worden".to_owned()
            } else {
                format!("{} leerlingen zouden worden", count_nl(due.len() as u64))
            }
        );
        return Ok(());
    }
    let purged = retention::purge(store, &actor, today, args.years, now)
        .await
        .map_err(super::app_error)?;
    for p in &purged {
        let c = &p.counts;
        println!(
            "  {}: {}, {}, {}, {} verwijderd; {} losgekoppeld",
            describe(&p.student),
            counted_nl(c.registrations, "registratie", "registraties"),
            counted_nl(c.history, "eerdere stand", "eerdere standen"),
            counted_nl(c.cases, "dossier", "dossiers"),
            counted_nl(c.meldingen, "DUO-melding", "DUO-meldingen"),
            counted_nl(c.audit_unlinked, "logboekregel", "logboekregels")
        );
    }
    println!(
        "{} verwijderd.",
        counted_nl(purged.len() as u64, "leerling", "leerlingen")
    );
    Ok(())
}
