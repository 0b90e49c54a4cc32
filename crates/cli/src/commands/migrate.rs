//! `aanwezig migrate --from DB --to DB`: moves a whole school to another
//! database (an SQLite file to PostgreSQL, usually): every table, history
//! and audit log included, in one transaction on the target, then the row
//! counts of both compared. Sign-in sessions stay behind.

use aanwezig_storage::transfer;
use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::session::{self, Database};

/// `aanwezig migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// De database waar de school nu staat (SQLite-bestand of postgres://…).
    #[arg(long, value_name = "DATABASE")]
    pub from: Database,
    /// De nieuwe, lege database (postgres://… of een nieuw SQLite-bestand).
    #[arg(long, value_name = "DATABASE")]
    pub to: Database,
    /// Geen voortgangsbalk (voor scripts en logbestanden).
    #[arg(long)]
    pub quiet: bool,
}

pub async fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    if args.from == args.to {
        bail!("--from en --to zijn dezelfde database ({})", args.from);
    }
    if !args.from.exists() {
        bail!(
            "de database {} bestaat niet: er is niets om over te zetten",
            args.from
        );
    }
    let source = session::open_transfer(&args.from, false).await?;
    let target = session::open_transfer(&args.to, true).await?;
    println!("School overzetten van {} naar {} …", args.from, args.to);
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        )
    };
    let shown = bar.clone();
    let copied = target
        .transfer
        .import_from(source.transfer.as_ref(), &move |table, rows| {
            shown.set_message(format!("{table}: {rows} rijen"));
            shown.tick();
        })
        .await;
    bar.finish_and_clear();
    let copied = match copied {
        Ok(copied) => copied,
        Err(aanwezig_storage::StoreError::Conflict(_)) => {
            close(source, target).await;
            bail!(
                "de database {} is niet leeg: zet een school alleen over naar een nieuwe, lege database",
                args.to
            );
        }
        Err(e) => {
            close(source, target).await;
            bail!(
                "overzetten mislukt, er is niets overgezet naar {}: {e}",
                args.to
            );
        }
    };
    let verified = transfer::verify(source.transfer.as_ref(), target.transfer.as_ref()).await;
    close(source, target).await;
    match verified? {
        Ok(counts) => {
            println!("Overgezet en gecontroleerd: elke tabel heeft evenveel rijen.");
            for (table, n) in &counts {
                println!("  {table:<22} {n:>12}");
            }
            let total: u64 = copied.iter().map(|(_, n)| n).sum();
            println!(
                "In totaal {total} rijen. Iedereen logt op de nieuwe database opnieuw in; \
                 start de server met --db {}.",
                args.to
            );
            Ok(())
        }
        Err(differ) => {
            for (table, a, b) in &differ {
                eprintln!("  {table}: {a} rijen in {}, {b} in {}", args.from, args.to);
            }
            bail!(
                "de aantallen rijen verschillen na het overzetten; gebruik {} niet",
                args.to
            )
        }
    }
}

async fn close(source: session::Opened, target: session::Opened) {
    source.store.close().await;
    target.store.close().await;
}
