//! `aanwezig import`: calendar, policy, students and registrations into the
//! database.
//!
//! Every file is read and validated in full before anything is written, and
//! then everything is written in one transaction: a failure anywhere (a bad
//! row, a stranger in the last file, a full disk) leaves the database as it
//! was.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use aanwezig_domain::{Calendar, Policy, SchoolYear};
use aanwezig_storage::{ImportBundle, ImportSource, Store, StoredStudent};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::session::{self, read_text};
use crate::ImportArgs;

/// `aanwezig import`.
pub async fn run(db: &Path, args: &ImportArgs, now: DateTime<Utc>) -> anyhow::Result<()> {
    let store = session::open_store(db).await?;
    import_into(&store, args, now).await?;
    store.close().await;
    Ok(())
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner().with_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn bar(len: u64, msg: String) -> ProgressBar {
    let pb = ProgressBar::new(len).with_message(msg);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, nog {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// Imports what `args` names into `store`; prints a Dutch summary.
pub async fn import_into(
    store: &dyn Store,
    args: &ImportArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // 1. Calendar: from files (plus Rijksoverheid holidays), else stored.
    let mut new_years: Option<Vec<SchoolYear>> = None;
    if !args.calendars.is_empty() {
        let mut years = Vec::new();
        for p in &args.calendars {
            years.extend(aanwezig_import::parse_school_years(
                &read_text(p)?,
                &p.display().to_string(),
            )?);
        }
        new_years = Some(years);
    }
    if let Some(p) = &args.rijksoverheid {
        let ro = aanwezig_import::parse_rijksoverheid(
            &read_text(p)?,
            &p.display().to_string(),
            &args.region,
        )?;
        let mut years = match new_years.take() {
            Some(y) => y,
            None => store.calendar().await?.unwrap_or_default(),
        };
        let Some(year) = years
            .iter_mut()
            .find(|y| y.name.trim() == ro.school_year.trim())
        else {
            bail!(
                "{}: schooljaar {} staat niet in de kalender; lees eerst een kalender voor dat jaar in (--calendar)",
                p.display(),
                ro.school_year
            );
        };
        aanwezig_import::merge_holidays(year, ro.holidays);
        new_years = Some(years);
    }
    let years = match &new_years {
        Some(y) => y.clone(),
        None => store.calendar().await?.unwrap_or_default(),
    };
    let need_calendar = args.students.is_some() || !args.registrations.is_empty();
    if years.is_empty() && need_calendar {
        bail!("er is nog geen kalender: geef --calendar BESTAND (zie docs/formats.md)");
    }
    let cal = if years.is_empty() {
        None
    } else {
        Some(Calendar::new(years).context("kalender")?)
    };

    // A new calendar may not turn a day that already has registrations into
    // a day without school: those lessons would no longer fit anywhere.
    if let (Some(_), Some(cal)) = (&new_years, &cal) {
        let mut lost = Vec::new();
        for (student, records) in store.registrations_all().await? {
            let mut dates: Vec<_> = records
                .iter()
                .map(|r| r.date)
                .filter(|d| !cal.is_school_day(*d))
                .collect();
            dates.dedup();
            lost.extend(
                dates
                    .into_iter()
                    .map(|d| format!("{d} (leerling {student})")),
            );
        }
        if !lost.is_empty() {
            let shown: Vec<_> = lost.iter().take(10).cloned().collect();
            bail!(
                "de nieuwe kalender maakt {} dag(en) met registraties tot niet-schooldag, onder meer: {}. \
                 Er is niets opgeslagen; pas de kalender aan of verwijder eerst die registraties.",
                lost.len(),
                shown.join(", ")
            );
        }
    }

    // 2. Policy: from the file, else stored, else rules.md with Magister codes.
    let mut save_policy = false;
    let policy: Policy = match &args.policy {
        Some(p) => {
            save_policy = true;
            session::read_policy(Some(p))?
        }
        None => match store.policy().await? {
            Some(p) => p,
            None => {
                save_policy = true;
                println!("Geen beleid opgegeven: het standaardbeleid van rules.md met Magister-codes wordt gebruikt.");
                session::read_policy(None)?
            }
        },
    };

    // 3. Students, validated.
    let students: Vec<StoredStudent> = match &args.students {
        Some(p) => session::read_students(p)?
            .into_iter()
            .map(|r| StoredStudent {
                student: r.student,
                left_on: r.left_on,
            })
            .collect(),
        None => Vec::new(),
    };
    let mut known: HashSet<String> = store
        .students()
        .await?
        .into_iter()
        .map(|s| s.student.id.to_string())
        .collect();
    known.extend(students.iter().map(|s| s.student.id.to_string()));

    // 4. Registrations, every file validated before anything is written.
    let mut batches = Vec::new();
    if let Some(cal) = &cal {
        for p in &args.registrations {
            let pb = spinner(format!("{} controleren", p.display()));
            let sha = {
                let mut f =
                    std::fs::File::open(p).with_context(|| format!("{} openen", p.display()))?;
                let mut h = Sha256::new();
                std::io::copy(&mut f, &mut h).with_context(|| format!("{} lezen", p.display()))?;
                format!("{:x}", h.finalize())
            };
            let is_known = |id: &str| known.contains(id);
            let records = session::read_registrations(p, cal, &policy, &is_known)?;
            pb.finish_and_clear();
            let file_name = p.file_name().map_or_else(
                || p.display().to_string(),
                |f| f.to_string_lossy().into_owned(),
            );
            batches.push((file_name, sha, records));
        }
    }

    // 5. Write, all in one transaction. Settings documents keep every
    // version; an unchanged one adds none.
    let calendar_changed = match &new_years {
        Some(years) => store.calendar().await?.as_ref() != Some(years),
        None => false,
    };
    let policy_changed = save_policy && store.policy().await?.as_ref() != Some(&policy);
    let total: u64 = batches.iter().map(|(_, _, r)| r.len() as u64).sum();
    let pb = bar(total, "opslaan".to_owned());
    let offsets: Vec<u64> = batches
        .iter()
        .scan(0u64, |acc, (_, _, r)| {
            let start = *acc;
            *acc += r.len() as u64;
            Some(start)
        })
        .collect();
    let bundle = ImportBundle {
        calendar: new_years.as_deref().filter(|_| calendar_changed),
        policy: policy_changed.then_some(&policy),
        students: &students,
        registrations: batches
            .iter()
            .map(|(file_name, sha, records)| {
                (
                    &records[..],
                    ImportSource {
                        file_name: file_name.clone(),
                        sha256: sha.clone(),
                        imported_by: args.by.clone(),
                        at: now,
                    },
                )
            })
            .collect(),
        by: &args.by,
        at: now,
    };
    let progress = |file: usize, n: u64| pb.set_position(offsets[file] + n);
    let done = store.import_bundle(&bundle, &progress).await;
    pb.finish_and_clear();
    let done = done.context("er is niets opgeslagen")?;

    if let Some(years) = &new_years {
        let names: Vec<&str> = years.iter().map(|y| y.name.as_str()).collect();
        match done.calendar_version {
            Some(v) => println!(
                "Kalender opgeslagen (versie {v}): schooljaar {}.",
                names.join(", ")
            ),
            None => println!("Kalender ongewijzigd: schooljaar {}.", names.join(", ")),
        }
    }
    if save_policy {
        match done.policy_version {
            Some(v) => println!(
                "Beleid opgeslagen (versie {v}): {} codes.",
                policy.codes.len()
            ),
            None => println!("Beleid ongewijzigd: {} codes.", policy.codes.len()),
        }
    }
    if let Some(c) = done.students {
        println!(
            "Leerlingen: {} nieuw, {} gewijzigd, {} ongewijzigd.",
            c.inserted, c.updated, c.unchanged
        );
    }
    for ((file_name, _, _), s) in batches.iter().zip(&done.registrations) {
        println!(
            "{file_name}: {} registraties, {} nieuw, {} gewijzigd (oude stand bewaard), {} ongewijzigd.",
            s.rows, s.inserted, s.updated, s.unchanged
        );
    }
    Ok(())
}
