//! `aanwezig import`: calendar, policy, students and registrations into the
//! database.
//!
//! Everything is written in one transaction: a failure anywhere (a bad
//! row, a stranger in the last file, a full disk) leaves the database as it
//! was. Files of registrations are read on their own threads, checked row
//! by row and handed to the transaction in batches while they are read, so
//! that memory stays bounded whatever the size of the school year.

use crate::session::Database;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use std::collections::HashMap;

use aanwezig_domain::explain::counted_nl;
use aanwezig_domain::{
    Calendar, NumbersGiven, Policy, Presence, RegistrationRecord, SchoolYear, Student, WeekSchedule,
};
use aanwezig_import::{
    Format, ImportErrors, ImportSettings, ReadOptions, ReadReport, StudentChecks,
};
use aanwezig_storage::{
    AbsencesOnly, DocumentKind, ImportBundle, ImportSource, ImportSummary, RecordBatches, Store,
    StoreError, StoredStudent, UpsertCounts, BATCH_ROWS,
};
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use futures::{SinkExt, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::session::{self, read_text};
use crate::ImportArgs;

/// `aanwezig import`.
pub async fn run(
    db: &Database,
    args: &ImportArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let store = session::open_store(db).await?;
    let report = import_into(store.as_ref(), args, today, now, Progress::Bar).await;
    store.close().await;
    match report {
        Ok(report) => {
            report.print();
            Ok(())
        }
        Err(failed) => Err(failed.print_notes()),
    }
}

/// Whether an import shows a running count on the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A spinner with the number of records saved (the command line).
    Bar,
    /// Nothing (a background job).
    Hidden,
}

/// What an import did: its Dutch summary, line by line as `aanwezig
/// import` prints it, and the counts a caller may show or log.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The summary, one line each, without newlines.
    pub lines: Vec<String>,
    /// Per file of registrations: its name and what was written.
    pub registrations: Vec<(String, ImportSummary)>,
    /// The students read, when a file of students was given.
    pub students: Option<UpsertCounts>,
    /// The rows of the timetable, when one was given.
    pub timetable_rows: Option<usize>,
}

impl ImportReport {
    /// Prints the summary on standard output.
    pub fn print(&self) {
        for line in &self.lines {
            println!("{line}");
        }
    }
}

/// An import that failed: nothing was saved.
#[derive(Debug)]
pub struct ImportFailed {
    /// Summary lines written before the failure (which policy was used,
    /// what `presence` it would get): they help to read the error.
    pub notes: Vec<String>,
    /// Why, in Dutch.
    pub error: anyhow::Error,
}

impl ImportFailed {
    /// Prints the notes on standard output and gives the error.
    pub fn print_notes(self) -> anyhow::Error {
        for line in &self.notes {
            println!("{line}");
        }
        self.error
    }
}

impl From<ImportFailed> for anyhow::Error {
    fn from(f: ImportFailed) -> anyhow::Error {
        f.error
    }
}

/// Reads and checks a students file, reports its warnings (mentors who are
/// no user, unlikely ages) and says which number columns it has.
async fn read_students(
    store: &dyn Store,
    path: &Path,
    today: NaiveDate,
    out: &mut ImportReport,
) -> anyhow::Result<(Vec<StoredStudent>, NumbersGiven)> {
    let users = store.users().await?;
    let names: HashSet<String> = users
        .iter()
        .flat_map(|u| [u.username.to_lowercase(), u.display_name.to_lowercase()])
        .collect();
    let known = |mentor: &str| names.contains(&mentor.trim().to_lowercase());
    // Before the first account exists every mentor would be unknown: no
    // check then, and one line that says so.
    let checks = StudentChecks {
        today: Some(today),
        known_mentor: (!users.is_empty()).then_some(&known as &dyn Fn(&str) -> bool),
    };
    let file = aanwezig_import::read_students_file_checked(path, checks)?;
    if users.is_empty() {
        out.lines.push(format!(
            "Er zijn nog geen gebruikers: de mentoren in {} zijn niet gecontroleerd.",
            path.display()
        ));
    }
    if !file.warnings.is_empty() {
        out.lines
            .extend(file.warnings.to_string().lines().map(str::to_owned));
    }
    let students = file
        .rows
        .into_iter()
        .map(|r| StoredStudent {
            student: r.student,
            left_on: r.left_on,
        })
        .collect();
    Ok((students, file.numbers))
}

/// A running count of records saved, with the rate.
fn counter(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.enable_steady_tick(Duration::from_millis(120));
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg}: {human_pos} registraties ({per_sec})")
    {
        pb.set_style(style);
    }
    pb.set_message(msg);
    pb
}

const PANIC: &str = "het lezen van dit bestand liep vast; er is niets opgeslagen";

/// Starts reading one file of registrations on its own thread. The thread
/// sends checked batches into the returned stream; when the file has a bad
/// row (or the reader fails in any other way) the stream's last item is an
/// error, so that the transaction reading it rolls back, and the thread's
/// result lists every problem.
fn spawn_reader(
    path: PathBuf,
    cal: Arc<Calendar>,
    policy: Arc<Policy>,
    known: Arc<HashSet<String>>,
    how: Arc<HowToRead>,
) -> (
    RecordBatches<'static>,
    JoinHandle<Result<ReadReport, ImportErrors>>,
) {
    // Two batches in flight: reading and writing overlap, memory stays small.
    let (mut tx, rx) =
        futures::channel::mpsc::channel::<Result<Vec<RegistrationRecord>, StoreError>>(1);
    let reader = std::thread::spawn(move || {
        let name = path.display().to_string();
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut send = |batch: Vec<RegistrationRecord>| {
                // A closed channel means the transaction already ended (it
                // failed): keep reading to report every bad row.
                let _ = futures::executor::block_on(tx.send(Ok(batch)));
            };
            let week_of = |id: &str| how.weeks.get(id).cloned();
            let options = ReadOptions {
                settings: &how.settings,
                week_of: Some(&week_of),
                open_until: Some(how.open_until),
            };
            aanwezig_import::stream_registrations_file(
                &path,
                &cal,
                &policy,
                options,
                |id| known.contains(id),
                BATCH_ROWS,
                &mut send,
            )
            .map(|(_, report)| report)
        }))
        .unwrap_or_else(|_| Err(ImportErrors::single(&name, None, PANIC.to_owned())));
        if read.is_err() {
            let _ = futures::executor::block_on(
                tx.send(Err(StoreError::Invalid(format!("{name} bevat fouten")))),
            );
        }
        read
    });
    (rx.boxed(), reader)
}

/// How the files of registrations are read: the settings (format and
/// column names), each student's week from the timetable (to expand
/// Somtoday periods) and the end of a period without one.
struct HowToRead {
    settings: ImportSettings,
    weeks: HashMap<String, WeekSchedule>,
    open_until: NaiveDate,
}

/// Imports what `args` names into `store`, all or nothing, and reports
/// what it did in Dutch (the caller prints or logs it), with the warnings
/// about the students file (`today` is the reference date of its age
/// check).
pub async fn import_into(
    store: &dyn Store,
    args: &ImportArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
    progress: Progress,
) -> Result<ImportReport, ImportFailed> {
    let mut report = ImportReport::default();
    match import_reporting(store, args, today, now, progress, &mut report).await {
        Ok(()) => Ok(report),
        Err(error) => Err(ImportFailed {
            notes: report.lines,
            error,
        }),
    }
}

/// [`import_into`], writing its summary into `out` as it goes, so that
/// the lines written before a failure are not lost.
async fn import_reporting(
    store: &dyn Store,
    args: &ImportArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
    progress: Progress,
    out: &mut ImportReport,
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
    let need_calendar =
        args.students.is_some() || !args.registrations.is_empty() || args.timetable.is_some();
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
        let mut stored = store.registrations_stream();
        while let Some(item) = stored.next().await {
            let (student, records) = item?;
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
                "de nieuwe kalender maakt {} met registraties tot niet-schooldag, onder meer: {}. \
                 Er is niets opgeslagen; pas de kalender aan of verwijder eerst die registraties.",
                counted_nl(lost.len() as u64, "dag", "dagen"),
                shown.join(", ")
            );
        }
    }

    // The timetable, checked against the calendar's lesson schedule.
    let timetable = match (&args.timetable, &cal) {
        (Some(p), Some(cal)) => Some(aanwezig_import::read_timetable_file(p, cal)?),
        _ => None,
    };

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
                out.lines.push("Geen beleid opgegeven: het standaardbeleid met de codes van Magister wordt gebruikt.".to_owned());
                session::read_policy(None)?
            }
        },
    };

    // How the registrations are read: the saved import settings, with the
    // command line's format; Magister and Somtoday exports hold absences
    // only, which the policy must say (rules.md §2).
    let mut settings: ImportSettings = match store.settings(DocumentKind::Import).await? {
        Some(json) => serde_json::from_str(&json)
            .context("de opgeslagen importinstellingen zijn onleesbaar")?,
        None => ImportSettings::default(),
    };
    if let Some(f) = args.format {
        settings.format = f.into();
    }
    if let Some(p) = args.presence {
        settings.presence = Some(p.into());
    }
    let mut policy = policy;
    if !args.registrations.is_empty() {
        let presence = settings.presence(policy.presence);
        if presence != policy.presence {
            policy.presence = presence;
            save_policy = true;
            out.lines.push(format!(
                "Beleid: presence = \"{}\" ({}).",
                presence_name(presence),
                match presence {
                    Presence::Implied =>
                        "de bestanden bevatten alleen afwezigheid; een les zonder registratie is een les waarin de leerling er was",
                    Presence::Registered => "de bestanden bevatten alle lessen",
                }
            ));
        }
    }

    // 3. Students, validated; warnings are printed and do not stop the
    // import.
    let (students, student_numbers) = match &args.students {
        Some(p) => read_students(store, p, today, out).await?,
        None => (Vec::new(), NumbersGiven::NONE),
    };
    let mut known: HashSet<String> = store
        .students()
        .await?
        .into_iter()
        .map(|s| s.student.id.to_string())
        .collect();
    known.extend(students.iter().map(|s| s.student.id.to_string()));

    // 4. Registrations: one reader thread per file hands checked batches
    // to the transaction below while it reads.
    let mut readers = Vec::new();
    let mut registrations = Vec::new();
    if let Some(cal) = &cal {
        let all_students: Vec<Student> = {
            let mut by_id: HashMap<String, Student> = store
                .students()
                .await?
                .into_iter()
                .map(|s| (s.student.id.to_string(), s.student))
                .collect();
            by_id.extend(
                students
                    .iter()
                    .map(|s| (s.student.id.to_string(), s.student.clone())),
            );
            by_id.into_values().collect()
        };
        let stored_timetable = match (&timetable, settings.format.is_periods()) {
            (None, true) => store.timetable().await?,
            _ => None,
        };
        let how = Arc::new(HowToRead {
            weeks: session::week_schedules(
                timetable.as_ref().or(stored_timetable.as_ref()),
                &all_students,
            ),
            settings: settings.clone(),
            open_until: args.until.unwrap_or_else(|| {
                now.with_timezone(&chrono_tz::Europe::Amsterdam)
                    .date_naive()
            }),
        });
        let known = Arc::new(known);
        let cal = Arc::new(cal.clone());
        let policy = Arc::new(policy.clone());
        for p in &args.registrations {
            let sha = {
                let mut f =
                    std::fs::File::open(p).with_context(|| format!("{} openen", p.display()))?;
                let mut h = Sha256::new();
                std::io::copy(&mut f, &mut h).with_context(|| format!("{} lezen", p.display()))?;
                format!("{:x}", h.finalize())
            };
            let file_name = p.file_name().map_or_else(
                || p.display().to_string(),
                |f| f.to_string_lossy().into_owned(),
            );
            let (batches, reader) = spawn_reader(
                p.clone(),
                Arc::clone(&cal),
                Arc::clone(&policy),
                Arc::clone(&known),
                Arc::clone(&how),
            );
            readers.push((file_name.clone(), reader));
            registrations.push((
                batches,
                ImportSource {
                    file_name,
                    sha256: sha,
                    imported_by: args.by.clone(),
                    at: now,
                },
            ));
        }
    }

    // 5. Write, all in one transaction. Settings documents keep every
    // version; an unchanged one adds none.
    let calendar_changed = match &new_years {
        Some(years) => store.calendar().await?.as_ref() != Some(years),
        None => false,
    };
    let policy_changed = save_policy && store.policy().await?.as_ref() != Some(&policy);
    let names: Vec<String> = readers.iter().map(|(n, _)| n.clone()).collect();
    let pb = match progress {
        Progress::Bar => counter("opslaan".to_owned()),
        Progress::Hidden => ProgressBar::hidden(),
    };
    let bundle = ImportBundle {
        calendar: new_years.as_deref().filter(|_| calendar_changed),
        policy: policy_changed.then_some(&policy),
        timetable: timetable.as_ref(),
        students: &students,
        student_numbers,
        registrations,
        absences_only: (!args.registrations.is_empty() && policy.presence == Presence::Implied)
            .then_some(AbsencesOnly {
                from: args.from,
                until: args.until,
            }),
        by: &args.by,
        at: now,
    };
    let progress = |file: usize, n: u64| {
        if let Some(name) = names.get(file) {
            pb.set_message(format!("{name} controleren en opslaan"));
        }
        pb.set_position(n);
    };
    let done = store.import_bundle(bundle, &progress).await;
    pb.finish_and_clear();
    // The readers' own errors (bad rows, every one of them) say more than
    // the store's "a reader failed": report those first.
    let mut read_errors: Option<ImportErrors> = None;
    let mut reports = Vec::new();
    for (name, reader) in readers {
        let result = reader
            .join()
            .unwrap_or_else(|_| Err(ImportErrors::single(&name, None, PANIC.to_owned())));
        match result {
            Ok(report) => reports.push(report),
            Err(e) => match &mut read_errors {
                Some(all) => all.errors.extend(e.errors),
                None => read_errors = Some(e),
            },
        }
    }
    if let Some(e) = read_errors {
        return Err(e.into());
    }
    let done = done.context("er is niets opgeslagen")?;
    out.students = done.students;
    out.timetable_rows = timetable.as_ref().map(|t| t.rows.len());
    out.registrations = names
        .iter()
        .cloned()
        .zip(done.registrations.clone())
        .collect();

    if let Some(years) = &new_years {
        let names: Vec<&str> = years.iter().map(|y| y.name.as_str()).collect();
        match done.calendar_version {
            Some(v) => out.lines.push(format!(
                "Kalender opgeslagen (versie {v}): schooljaar {}.",
                names.join(", ")
            )),
            None => out.lines.push(format!(
                "Kalender ongewijzigd: schooljaar {}.",
                names.join(", ")
            )),
        }
    }
    if save_policy {
        match done.policy_version {
            Some(v) => out.lines.push(format!(
                "Beleid opgeslagen (versie {v}): {} codes.",
                policy.codes.len()
            )),
            None => out
                .lines
                .push(format!("Beleid ongewijzigd: {} codes.", policy.codes.len())),
        }
    }
    if let (Some(t), Some(v)) = (&timetable, done.timetable_version) {
        out.lines.push(format!(
            "Rooster opgeslagen (versie {v}): {} regels.",
            t.rows.len()
        ));
    }
    if let Some(c) = done.students {
        out.lines.push(format!(
            "Leerlingen: {} nieuw, {} gewijzigd, {} ongewijzigd.",
            c.inserted, c.updated, c.unchanged
        ));
    }
    for ((file_name, s), report) in names.iter().zip(&done.registrations).zip(&reports) {
        out.lines.push(format!(
            "{file_name}: {} registraties, {} nieuw, {} gewijzigd (oude stand bewaard), {} ongewijzigd.",
            s.rows, s.inserted, s.updated, s.unchanged
        ));
        if settings.format != Format::Canonical || !report.other_columns.is_empty() {
            let used: Vec<String> = report
                .columns
                .iter()
                .map(|(c, n)| format!("{n} → {c}"))
                .collect();
            out.lines.push(format!(
                "  Kolommen ({}): {}",
                settings.format.label_nl(),
                used.join(", ")
            ));
            if !report.other_columns.is_empty() {
                out.lines.push(format!(
                    "  Niet gebruikt: {}",
                    report.other_columns.join(", ")
                ));
            }
        }
        for note in report.notes() {
            out.lines.push(format!("  {note}"));
        }
    }
    if let Some((from, until)) = done.covered {
        out.lines.push(format!(
            "Alleen afwezigheid: de import beslaat {from} tot en met {until}; {} eerder geregistreerde afwezigheid of te laat in die periode staat niet meer in de export en is nu aanwezig (oude stand bewaard).",
            done.retracted
        ));
    }

    // Codes the files explained by their kind and "geoorloofd": added to the
    // policy when asked, else offered.
    let mut to_add: Vec<(String, aanwezig_domain::Category)> =
        reports.iter().flat_map(ReadReport::codes_to_add).collect();
    to_add.sort();
    to_add.dedup_by(|a, b| a.0 == b.0);
    if !to_add.is_empty() {
        let list: Vec<String> = to_add
            .iter()
            .map(|(c, cat)| format!("{c} = {} ({})", cat.label_nl(), cat.as_str()))
            .collect();
        if args.add_codes {
            let mut policy = policy.clone();
            policy.codes.extend(to_add);
            let v = store.save_policy(&policy, &args.by, now).await?;
            out.lines.push(format!(
                "Codes toegevoegd aan het beleid (versie {v}): {}.",
                list.join(", ")
            ));
        } else {
            out.lines.push(format!(
                "Niet in het beleid, wel afgeleid: {}. Voeg ze toe met --add-codes (of zet ze zelf in het beleid).",
                list.join(", ")
            ));
        }
    }
    Ok(())
}

fn presence_name(p: Presence) -> &'static str {
    match p {
        Presence::Registered => "registered",
        Presence::Implied => "implied",
    }
}
