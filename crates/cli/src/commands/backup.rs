//! `aanwezig backup FILE`: a consistent copy of the database while the
//! server runs and writes. The mechanism is the storage crate's
//! ([`aanwezig_storage::Backup`], `VACUUM INTO`); this command words the
//! result and every refusal in Dutch.

use crate::session::Database;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use aanwezig_storage::{Backup, BackupError, BackupInfo, StoreError};
use anyhow::bail;
use clap::Args;

/// `aanwezig backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Het back-upbestand dat gemaakt wordt.
    #[arg(value_name = "BESTAND")]
    pub file: PathBuf,
    /// Overschrijf BESTAND als het al bestaat.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(db: &Database, args: &BackupArgs) -> anyhow::Result<()> {
    let db = db.file("aanwezig backup")?;
    if !db.exists() {
        bail!(
            "de database {} bestaat niet: er is niets om te bewaren",
            db.display()
        );
    }
    let store = crate::session::open_file(db, false).await?;
    let result = store.backup_to(&args.file, args.force).await;
    aanwezig_storage::Store::close(&store).await;
    let info = result.map_err(|e| anyhow::anyhow!(dutch(&e, db)))?;
    println!(
        "Back-up gemaakt: {} ({}), een momentopname van {}.",
        info.path.display(),
        size(info.bytes),
        db.display()
    );
    println!("{}", holds(&info));
    println!(
        "Terugzetten kan met: aanwezig restore {} (met de server gestopt).",
        info.path.display()
    );
    Ok(())
}

/// What a backup holds, in one or two indented Dutch lines.
pub(crate) fn holds(info: &BackupInfo) -> String {
    let mut out = format!(
        "  Inhoud: {} leerlingen, {} registraties, {} gebruikers, {} dossiers, {} DUO-meldingen, {} auditregels (schemaversie {}).",
        number(info.students),
        number(info.registrations),
        number(info.users),
        number(info.cases),
        number(info.meldingen),
        number(info.audit_entries),
        info.schema_version
    );
    if let Some(at) = info.last_change {
        out.push_str(&format!(
            "\n  Laatste wijziging van registraties: {}.",
            at.with_timezone(&chrono_tz::Europe::Amsterdam)
                .format("%Y-%m-%d %H:%M")
        ));
    }
    out
}

/// `1234567` as `1.234.567`.
pub(crate) fn number(n: u64) -> String {
    let digits = n.to_string();
    // The first group takes what is left over; the rest are threes.
    let first = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let (head, tail) = digits.split_at(first);
    let mut out = head.to_owned();
    for group in tail.as_bytes().chunks(3) {
        out.push('.');
        out.push_str(&String::from_utf8_lossy(group));
    }
    out
}

/// A file size in Dutch: `812 kB`, `1,4 MB`, `2,1 GB`.
pub(crate) fn size(bytes: u64) -> String {
    let b = bytes as f64;
    let (value, unit) = if bytes >= 1_000_000_000 {
        (b / 1e9, "GB")
    } else if bytes >= 1_000_000 {
        (b / 1e6, "MB")
    } else if bytes >= 1_000 {
        return format!("{} kB", number(bytes / 1_000));
    } else {
        return format!("{bytes} bytes");
    };
    format!("{value:.1} {unit}").replace('.', ",")
}

/// A file problem in Dutch.
fn io_dutch(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => format!("{} bestaat niet (of de map ervan niet)", path.display()),
        ErrorKind::PermissionDenied => format!("geen toegang tot {}", path.display()),
        _ => format!("{} lezen of schrijven lukte niet: {e}", path.display()),
    }
}

/// Every refusal of backup and restore in Dutch; `db` is the database the
/// command works on.
pub(crate) fn dutch(e: &BackupError, db: &Path) -> String {
    match e {
        BackupError::Exists(p) => format!(
            "{} bestaat al; kies een andere naam, of overschrijf het met --force",
            p.display()
        ),
        BackupError::InUse(lock) => format!(
            "de database {} is in gebruik: er draait nog een server (aanwezig serve) of een ander \
             aanwezig-commando op (slot {}). Stop die eerst en probeer het opnieuw",
            db.display(),
            lock.display()
        ),
        BackupError::Io { path, source } => io_dutch(path, source),
        BackupError::Damaged { path, detail } => format!(
            "{} is beschadigd of geen SQLite-database (controle: {detail})",
            path.display()
        ),
        BackupError::NotAanwezig { path, detail } => format!(
            "{} is geen database van aanwezig ({detail})",
            path.display()
        ),
        BackupError::Newer { path, found, known } => format!(
            "{} is gemaakt door een nieuwere versie van aanwezig (schemaversie {found}; deze versie \
             kent tot en met {known}). Werk aanwezig eerst bij",
            path.display()
        ),
        BackupError::Mismatch { path, version } => format!(
            "migratie {version} in {} verschilt van die van deze versie van aanwezig (gemaakt door \
             een andere of aangepaste versie?)",
            path.display()
        ),
        BackupError::Store(StoreError::Locked(_)) => format!(
            "de database {} wordt op dit moment hersteld (aanwezig restore); probeer het zo opnieuw",
            db.display()
        ),
        BackupError::Store(other) => format!("database {}: {other}", db.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes_read_as_dutch() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1.000");
        assert_eq!(number(1_234_567), "1.234.567");
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(81_234), "81 kB");
        assert_eq!(size(1_421_312), "1,4 MB");
        assert_eq!(size(2_100_000_000), "2,1 GB");
    }
}
