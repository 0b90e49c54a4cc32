//! `aanwezig serve --import-dir DIR`: a folder the school's administration
//! system drops its exports into.
//!
//! Every few seconds the folder is listed. A file is imported once its size
//! and modification time were the same at two polls in a row (so a file
//! still being written is left alone), through the same code as `aanwezig
//! import`: all or nothing, with the saved import settings. Then it is
//! moved to `verwerkt/` or, when nothing could be saved, to `fout/` with a
//! `.fouten.txt` beside it. The outcome goes to the folder's
//! [`ImportDirStatus`] (which the web's Importeren page shows), the audit
//! log and, for a success, the imports log. The running app is reached
//! through [`ImportHost`] only.
//!
//! No file is ever deleted. A file that cannot be moved stays where it is,
//! and while it stays unchanged it is not imported again.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aanwezig_app::import_dir::{
    DropCounts, DropKind, DropOutcome, DropResult, ImportDirStatus, ImportHost, FAILED_DIR,
    IMPORTED_BY, PROCESSED_DIR,
};
use aanwezig_import::ImportErrors;
use aanwezig_storage::{AuditAction, AuditEntry};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};

use crate::commands::import::{import_into, ImportFailed, ImportReport, Progress};
use crate::ImportArgs;

/// How many problems an outcome keeps for the Importeren page; the
/// `.fouten.txt` has them all.
const SHOWN_ERRORS: usize = 5;

/// Checks the watched folder at start: it must exist and be writable;
/// `verwerkt/` and `fout/` are made when missing. The errors are Dutch,
/// for whoever starts the server.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "de importmap {} bestaat niet; maak die eerst aan (aanwezig maakt zelf alleen {PROCESSED_DIR}/ en {FAILED_DIR}/ erin)",
            dir.display()
        ),
        Err(e) => bail!("de importmap {} is niet te lezen: {e}", dir.display()),
    };
    if !meta.is_dir() {
        bail!("de importmap {} is geen map", dir.display());
    }
    for sub in [PROCESSED_DIR, FAILED_DIR] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).with_context(|| {
            format!(
                "de importmap {}: kan {sub}/ niet aanmaken (is de map schrijfbaar voor aanwezig?)",
                dir.display()
            )
        })?;
    }
    // Moving a file needs write access to the folder and to the target:
    // try it, with a hidden file the watcher ignores.
    for folder in [
        dir.to_owned(),
        dir.join(PROCESSED_DIR),
        dir.join(FAILED_DIR),
    ] {
        let probe = folder.join(".aanwezig-schrijftest");
        std::fs::write(&probe, b"").with_context(|| {
            format!(
                "de importmap: aanwezig kan niet schrijven in {}; geef de gebruiker waaronder aanwezig draait schrijfrechten",
                folder.display()
            )
        })?;
        // Only a leftover hidden file if this fails; not worth refusing for.
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

/// Whether a name in the folder may be an export: not hidden, not a file
/// still being written under a temporary name, not an error report, not
/// `verwerkt` or `fout` (even when something broke them into files).
pub fn is_candidate(name: &str) -> bool {
    let lower = name.to_lowercase();
    !(lower == PROCESSED_DIR
        || lower == FAILED_DIR
        || lower.starts_with('.')
        || lower.starts_with('~')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".fouten.txt"))
}

/// A file's size and modification time: the same at two polls means the
/// writer is done.
type Fingerprint = (u64, SystemTime);

/// A file that was imported (or failed) but could not be moved away.
#[derive(Debug)]
struct Stuck {
    fingerprint: Fingerprint,
    /// Where it should go, relative to the folder.
    target: String,
    /// For a failed file: the text of its `.fouten.txt`.
    errors: Option<String>,
}

/// Watches one folder; call [`Watcher::poll`] every interval.
pub struct Watcher {
    status: Arc<ImportDirStatus>,
    /// Each candidate's fingerprint at the last poll.
    last_seen: HashMap<OsString, Fingerprint>,
    /// Files handled but still in the folder (moving failed).
    stuck: HashMap<OsString, Stuck>,
}

impl Watcher {
    /// A watcher of `status.dir()`, which [`prepare`] checked.
    pub fn new(status: Arc<ImportDirStatus>) -> Watcher {
        Watcher {
            status,
            last_seen: HashMap::new(),
            stuck: HashMap::new(),
        }
    }

    /// One look at the folder: imports every file that is stable since the
    /// last poll, oldest first, one at a time. Returns how many files were
    /// handled (imported or failed).
    pub async fn poll(&mut self, state: &dyn ImportHost) -> usize {
        let dir = self.status.dir().to_owned();
        let listing = match list(&dir) {
            Ok(l) => l,
            Err(e) => {
                let problem = format!("de importmap {} is niet te lezen: {e}", dir.display());
                eprintln!("Importmap: {problem}");
                self.status.polled(state.now(), Vec::new(), Some(problem));
                return 0;
            }
        };

        // Files that could not be moved: try again; a changed one is a new
        // file and waits like any other.
        self.stuck
            .retain(|name, s| listing.get(name) == Some(&s.fingerprint));
        let stuck: Vec<OsString> = self.stuck.keys().cloned().collect();
        for name in stuck {
            if let Some(s) = self.stuck.get(&name) {
                if let Ok(placed) = place(&dir, &name, &s.target) {
                    println!(
                        "Importmap: {} alsnog verplaatst naar {placed}.",
                        name.to_string_lossy()
                    );
                    if let Some(text) = &s.errors {
                        if let Err(e) = write_errors(&dir, &placed, text) {
                            eprintln!("Importmap: {e:#}");
                        }
                    }
                    self.stuck.remove(&name);
                }
            }
        }

        let mut ready = Vec::new();
        let mut waiting = Vec::new();
        for (name, fp) in &listing {
            if self.stuck.contains_key(name) {
                continue;
            }
            if self.last_seen.get(name) == Some(fp) {
                ready.push((fp.1, name.clone(), *fp));
            } else {
                waiting.push(name.to_string_lossy().into_owned());
            }
        }
        self.last_seen = listing
            .into_iter()
            .filter(|(name, _)| !self.stuck.contains_key(name))
            .collect();
        ready.sort();

        let mut handled = 0;
        for (_, name, fp) in ready {
            // Looked at again just before reading: a writer that started
            // again since the listing makes it wait another round.
            if fingerprint_of(&dir.join(&name)).ok() != Some(fp) {
                waiting.push(name.to_string_lossy().into_owned());
                continue;
            }
            self.last_seen.remove(&name);
            if let Some(stuck) = self.handle(state, &dir, &name, fp).await {
                self.stuck.insert(name, stuck);
            }
            handled += 1;
        }
        waiting.sort();
        self.status.polled(state.now(), waiting, None);
        handled
    }

    /// Imports one file and moves it; returns what to remember when the
    /// move failed.
    async fn handle(
        &self,
        state: &dyn ImportHost,
        dir: &Path,
        name: &OsString,
        fingerprint: Fingerprint,
    ) -> Option<Stuck> {
        let shown = name.to_string_lossy().into_owned();
        let path = dir.join(name);
        let kind = DropKind::of_file_name(&shown);
        let now = state.now();
        let args = import_args(&path, kind);
        let result = import_into(state.store(), &args, state.today(), now, Progress::Hidden).await;
        let stamped = format!("{}_{shown}", stamp(now));

        let (drop_result, target, errors, detail) = match &result {
            Ok(report) => {
                let counts = counts(report, kind);
                let detail = match counts {
                    Some(c) => format!(
                        "{shown} ({}): {} regels, {} nieuw, {} gewijzigd, {} ongewijzigd",
                        kind.label(),
                        c.rows,
                        c.inserted,
                        c.updated,
                        c.unchanged
                    ),
                    None => format!(
                        "{shown} ({}): {} regels",
                        kind.label(),
                        report.timetable_rows.unwrap_or(0)
                    ),
                };
                (
                    DropResult::Imported {
                        counts,
                        summary: report.lines.clone(),
                    },
                    format!("{PROCESSED_DIR}/{stamped}"),
                    None,
                    detail,
                )
            }
            Err(failed) => {
                let (lines, total) = error_lines(failed);
                let detail = format!(
                    "{shown} ({}): mislukt, niets opgeslagen: {}",
                    kind.label(),
                    lines.first().map_or("", String::as_str)
                );
                (
                    DropResult::Failed {
                        errors: lines.iter().take(SHOWN_ERRORS + 1).cloned().collect(),
                        total,
                    },
                    format!("{FAILED_DIR}/{stamped}"),
                    Some(error_file(&shown, kind, now, failed, &lines)),
                    detail,
                )
            }
        };

        // A writer that started again while the file was read: what was
        // read is not what is there now. Leave it; it is read again once
        // it is stable.
        let rewritten = fingerprint_of(&path).ok() != Some(fingerprint);
        let placed = if rewritten {
            Err(anyhow::anyhow!(
                "het bestand veranderde tijdens het inlezen"
            ))
        } else {
            place(dir, name, &target)
        };
        let (moved_to, problem) = match &placed {
            Err(e) if rewritten => (
                None,
                Some(format!(
                    "{e}; het blijft in de importmap staan en wordt opnieuw ingelezen zodra het niet meer verandert"
                )),
            ),
            Ok(placed) => {
                let written = match &errors {
                    Some(text) => write_errors(dir, placed, text),
                    None => Ok(()),
                };
                (
                    Some(placed.clone()),
                    written.err().map(|e| {
                        format!("het foutenbestand bij {placed} is niet geschreven ({e:#})")
                    }),
                )
            }
            Err(e) => (
                None,
                Some(format!(
                    "kon niet naar {target} verplaatsen ({e:#}); het bestand blijft in de importmap staan en wordt niet opnieuw ingelezen zolang het niet verandert"
                )),
            ),
        };
        let detail = match &moved_to {
            Some(t) => format!("{detail} (importmap, verplaatst naar {t})"),
            None => format!("{detail} (importmap, niet verplaatst)"),
        };

        if result.is_ok() {
            if let Err(e) = state.reload().await {
                eprintln!(
                    "Importmap: {shown} is ingelezen, maar de app kon niet opnieuw laden: {e}"
                );
            }
        }
        if let Err(e) = state
            .store()
            .audit(&AuditEntry {
                at: now,
                username: IMPORTED_BY.to_owned(),
                action: AuditAction::Import,
                student: None,
                detail: detail.clone(),
            })
            .await
        {
            eprintln!("Importmap: auditregel niet geschreven ({e}): {detail}");
        }
        match (&result, &problem) {
            (_, Some(p)) => eprintln!("Importmap: {shown}: {p}"),
            (Ok(_), None) => println!("Importmap: {detail}."),
            (Err(_), None) => eprintln!("Importmap: {detail}."),
        }

        self.status.record(DropOutcome {
            file_name: shown,
            kind,
            at: now,
            result: drop_result,
            moved_to: moved_to.clone(),
            problem,
        });
        (placed.is_err() && !rewritten).then_some(Stuck {
            fingerprint,
            target,
            errors,
        })
    }
}

/// Polls the folder every `interval`, for as long as the server runs.
pub async fn run(mut watcher: Watcher, state: Arc<dyn ImportHost>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        watcher.poll(state.as_ref()).await;
    }
}

/// What `aanwezig import` would get for this file.
fn import_args(path: &Path, kind: DropKind) -> ImportArgs {
    let file = Some(path.to_owned());
    ImportArgs {
        calendars: Vec::new(),
        rijksoverheid: None,
        region: "noord".to_owned(),
        policy: None,
        students: file.clone().filter(|_| kind == DropKind::Students),
        registrations: file
            .clone()
            .filter(|_| kind == DropKind::Registrations)
            .into_iter()
            .collect(),
        timetable: file.filter(|_| kind == DropKind::Timetable),
        format: None,
        presence: None,
        from: None,
        until: None,
        add_codes: false,
        by: IMPORTED_BY.to_owned(),
    }
}

/// The counts of the one file imported.
fn counts(report: &ImportReport, kind: DropKind) -> Option<DropCounts> {
    match kind {
        DropKind::Registrations => report.registrations.first().map(|(_, s)| DropCounts {
            rows: s.rows,
            inserted: s.inserted,
            updated: s.updated,
            unchanged: s.unchanged,
        }),
        DropKind::Students => report.students.map(|c| DropCounts {
            rows: c.inserted + c.updated + c.unchanged,
            inserted: c.inserted,
            updated: c.updated,
            unchanged: c.unchanged,
        }),
        DropKind::Timetable => None,
    }
}

/// The candidates directly in `dir`: regular files (no links, no folders)
/// with the names [`is_candidate`] allows.
fn list(dir: &Path) -> std::io::Result<HashMap<OsString, Fingerprint>> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !is_candidate(&name.to_string_lossy()) || !entry.file_type()?.is_file() {
            continue;
        }
        // A file gone between listing and looking: it is not there.
        if let Ok(fp) = fingerprint_of(&entry.path()) {
            found.insert(name, fp);
        }
    }
    Ok(found)
}

fn fingerprint_of(path: &Path) -> std::io::Result<Fingerprint> {
    let meta = std::fs::symlink_metadata(path)?;
    Ok((meta.len(), meta.modified()?))
}

/// `2026-12-07T101500`: the server's local time, without colons (which
/// Windows shares do not allow), so that a daily export with the same name
/// never overwrites yesterday's.
fn stamp(now: DateTime<Utc>) -> String {
    now.with_timezone(&chrono::Local)
        .format("%Y-%m-%dT%H%M%S")
        .to_string()
}

/// Moves `dir/name` to `dir/target`, or when that name is taken to the
/// same with a counter after the time stamp. Returns where it went.
fn place(dir: &Path, name: &OsString, target: &str) -> anyhow::Result<String> {
    let from = dir.join(name);
    let free = free_name(dir, target);
    let to = dir.join(&free);
    std::fs::rename(&from, &to)
        .with_context(|| format!("{} naar {} verplaatsen", from.display(), to.display()))?;
    Ok(free)
}

/// Writes a failed file's errors next to it, as `<placed>.fouten.txt`.
fn write_errors(dir: &Path, placed: &str, text: &str) -> anyhow::Result<()> {
    let report = dir.join(format!("{placed}.fouten.txt"));
    std::fs::write(&report, text).with_context(|| format!("{} schrijven", report.display()))
}

/// `target`, or when that exists, the same with a counter after the stamp
/// (`fout/2026-12-07T101500-2_x.csv`).
fn free_name(dir: &Path, target: &str) -> String {
    if !dir.join(target).exists() {
        return target.to_owned();
    }
    let (folder, file) = target.split_once('/').unwrap_or(("", target));
    let (stamp, rest) = file.split_once('_').unwrap_or((file, ""));
    (2..)
        .map(|n| format!("{folder}/{stamp}-{n}_{rest}"))
        .find(|t| !dir.join(t).exists())
        .unwrap_or_else(|| target.to_owned())
}

/// Every problem, one line each, and how many there were in all.
fn error_lines(failed: &ImportFailed) -> (Vec<String>, usize) {
    let table = failed
        .error
        .chain()
        .find_map(|e| e.downcast_ref::<ImportErrors>());
    match table {
        Some(errs) => {
            let mut lines: Vec<String> = errs
                .to_string()
                .lines()
                .next()
                .map(str::to_owned)
                .into_iter()
                .collect();
            lines.extend(
                errs.errors
                    .iter()
                    .map(|e| e.in_file(&errs.file).to_string()),
            );
            if errs.omitted > 0 {
                lines.push(format!(
                    "en nog {} regels met fouten (niet afzonderlijk bewaard)",
                    errs.omitted
                ));
            }
            (lines, errs.total())
        }
        None => (
            format!("{:#}", failed.error)
                .lines()
                .map(str::to_owned)
                .collect(),
            1,
        ),
    }
}

/// The text of a failed file's `.fouten.txt`.
fn error_file(
    shown: &str,
    kind: DropKind,
    now: DateTime<Utc>,
    failed: &ImportFailed,
    lines: &[String],
) -> String {
    let mut text = format!(
        "{shown} is niet ingelezen: er is niets opgeslagen.\n\
         Gelezen als {} door de importmap van aanwezig op {}.\n\n",
        kind.label(),
        now.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S"),
    );
    for note in &failed.notes {
        text.push_str(note);
        text.push('\n');
    }
    if !failed.notes.is_empty() {
        text.push('\n');
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(
        "\nVerbeter het bestand (of de kolommen in Instellingen → Import) en zet het opnieuw in de importmap.\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_hidden_and_report_files_are_not_exports() {
        for name in [
            "registraties.csv",
            "leerlingen.xlsx",
            "rooster",
            "a.part.csv",
        ] {
            assert!(is_candidate(name), "{name}");
        }
        for name in [
            ".registraties.csv",
            "~$leerlingen.xlsx",
            "registraties.csv.part",
            "registraties.CSV.PART",
            "export.tmp",
            "x.csv.fouten.txt",
            "verwerkt",
            "fout",
        ] {
            assert!(!is_candidate(name), "{name}");
        }
    }

    #[test]
    fn a_taken_name_gets_a_counter_after_the_stamp() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("fout")).unwrap();
        let t = "fout/2026-12-07T101500_x.csv";
        assert_eq!(free_name(tmp.path(), t), t);
        std::fs::write(tmp.path().join(t), "").unwrap();
        assert_eq!(free_name(tmp.path(), t), "fout/2026-12-07T101500-2_x.csv");
        std::fs::write(tmp.path().join("fout/2026-12-07T101500-2_x.csv"), "").unwrap();
        assert_eq!(free_name(tmp.path(), t), "fout/2026-12-07T101500-3_x.csv");
    }
}
