//! Importeren: upload a students or registrations table (CSV or XLSX), see
//! a preview with every problem, then import it all or nothing while a
//! progress page refreshes itself (no JavaScript).
//!
//! An upload is checked by `aanwezig_import` against the live calendar,
//! policy and students. A clean upload waits as an [`ImportJob`] until its
//! uploader confirms it: the job keeps the preview (a few figures and
//! [`PREVIEW_ROWS`] rows) in memory and the uploaded file itself in a
//! temporary file on disk, never the parsed rows, so waiting previews cost
//! no memory to speak of. A user has at most one waiting preview (a new
//! upload drops the previous one) and a preview expires after
//! [`PENDING_TTL`]. On confirmation the file is read and checked again —
//! the school may have changed meanwhile — and imported in a task in one
//! transaction of the store; the live school is reloaded when it is done.
//! Jobs live only in this process: a restart forgets pending previews
//! (nothing was written for them) and finished results (the imports log in
//! the store keeps those).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aanwezig_domain::explain::{capitalize_nl, count_nl, counted_nl, date_nl};
use aanwezig_domain::{
    Category, Group, NumbersGiven, Presence, RegistrationRecord, Timetable, WeekSchedule,
};
use aanwezig_import::{
    Format, ImportErrors, ImportSettings, ReadOptions, ReadReport, StudentChecks, StudentsFile,
};
use aanwezig_storage::{
    batches_of, AbsencesOnly, AuditAction, DocumentKind, ImportBundle, ImportSource, StoredStudent,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Form;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::Import;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// The largest upload accepted: a whole school year of a large school.
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

/// How many rows a preview shows.
const PREVIEW_ROWS: usize = 20;

/// A preview not confirmed within this time expires (its file is removed).
pub const PENDING_TTL: Duration = Duration::minutes(30);

/// Finished jobs (their result page) are forgotten after this time.
const JOB_TTL: Duration = Duration::hours(2);

/// Pending and finished imports of this process, by id.
pub type ImportJobs = Mutex<HashMap<u64, ImportJob>>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Students,
    Registrations,
    Timetable,
}

impl ImportKind {
    fn label(self) -> &'static str {
        match self {
            ImportKind::Students => "leerlingen",
            ImportKind::Registrations => "registraties",
            ImportKind::Timetable => "rooster",
        }
    }
}

/// What the uploader chose besides the file (registrations only): the
/// system the export comes from, and the period an export of absences
/// only covers.
#[derive(Clone, Copy, Debug, Default)]
struct Choices {
    format: Option<Format>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

/// What an import of registrations changes besides its rows.
#[derive(Clone, Debug, Default)]
struct Plan {
    /// The policy's `presence` becomes this (the export's format says so).
    presence: Option<Presence>,
    /// Set for an export of absences only.
    absences_only: Option<AbsencesOnly>,
    /// Codes the file explained by kind and "geoorloofd", which the
    /// uploader may add to the policy.
    codes_to_add: Vec<(String, Category)>,
}

/// The checked rows, read again from the file on confirmation.
enum Payload {
    /// With the number columns the file has: one it lacks keeps the
    /// stored numbers.
    Students(Vec<StoredStudent>, NumbersGiven),
    Registrations(Vec<RegistrationRecord>, Plan),
    Timetable(Timetable),
}

/// The outcome of a finished import.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// An export of absences only: the period and the lessons that became
    /// present.
    pub covered: Option<String>,
    pub retracted: u64,
    /// A new policy version (presence, added codes) or timetable version.
    pub policy_version: Option<u32>,
    pub timetable_version: Option<u32>,
}

enum Phase {
    /// The uploaded file, on disk, waiting for confirmation (removed when
    /// the job is dropped).
    Pending(tempfile::NamedTempFile),
    Running,
    Done(Outcome),
    Failed(String),
}

/// A figure of a preview: a label and a number.
#[derive(Clone, Debug)]
struct Figure {
    label: String,
    value: u64,
}

impl Figure {
    /// The value with Dutch thousands separators.
    fn shown(&self) -> String {
        aanwezig_domain::explain::count_nl(self.value)
    }
}

fn fig(label: &str, value: u64) -> Figure {
    Figure {
        label: label.to_owned(),
        value,
    }
}

/// What the preview page shows of a checked upload.
#[derive(Clone, Debug, Default)]
struct Preview {
    figures: Vec<Figure>,
    /// Registrations: the dates covered, in words.
    period: Option<String>,
    /// Whether the new/changed/unchanged figures are an estimate.
    estimate: bool,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Registrations: the file's columns and what aanwezig reads in each.
    mapping: Vec<(String, String)>,
    /// Registrations: the file's columns that are not used.
    other_columns: String,
    /// What the uploader should know (derived codes, periods through a
    /// holiday, the policy's presence changing, lessons becoming present;
    /// students: a number column the file lacks keeps the stored numbers).
    notes: Vec<String>,
    /// Codes that may be added to the policy, as `Zb = ziek gemeld`.
    codes_to_add: Vec<String>,
    /// Problems that do not stop the import, grouped like errors: one line
    /// per distinct warning with its first line and count.
    warnings: Vec<String>,
}

/// One upload, from preview to result.
pub struct ImportJob {
    owner: String,
    created: DateTime<Utc>,
    file_name: String,
    sha256: String,
    kind: ImportKind,
    request: Choices,
    total: u64,
    done: Arc<AtomicU64>,
    preview: Preview,
    phase: Phase,
}

/// The jobs, with expired ones dropped first: pending previews older than
/// [`PENDING_TTL`] and finished jobs older than [`JOB_TTL`]. Running ones
/// stay.
fn jobs_lock(
    state: &AppState,
) -> Result<std::sync::MutexGuard<'_, HashMap<u64, ImportJob>>, PageError> {
    let now = state.clock.now();
    let mut jobs = state
        .imports
        .lock()
        .map_err(|_| PageError::Internal("importlijst is beschadigd".into()))?;
    jobs.retain(|_, j| match j.phase {
        Phase::Running => true,
        Phase::Pending(_) => now - j.created < PENDING_TTL,
        Phase::Done(_) | Phase::Failed(_) => now - j.created < JOB_TTL,
    });
    Ok(jobs)
}

/// Keeps an uploaded file on disk until it is confirmed.
fn keep_on_disk(bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut f = tempfile::Builder::new()
        .prefix("aanwezig-import-")
        .tempfile()?;
    f.write_all(bytes)?;
    f.flush()?;
    Ok(f)
}

/// Checks an upload of `kind` against the live school.
async fn check(
    state: &AppState,
    kind: ImportKind,
    request: Choices,
    name: &str,
    bytes: Bytes,
) -> Result<Checked, PageError> {
    match kind {
        ImportKind::Students => check_students(state, name, bytes).await,
        ImportKind::Registrations => check_registrations(state, request, name, bytes).await,
        ImportKind::Timetable => check_timetable(state, name, bytes).await,
    }
}

// --- GET /importeren -----------------------------------------------------------

struct LogRow {
    file_name: String,
    by: String,
    at: String,
    rows: String,
    inserted: String,
    updated: String,
    unchanged: String,
}

struct ErrorRow {
    file: String,
    line: String,
    column: String,
    message: String,
}

/// One file the watched folder handled, for the page.
struct FolderRow {
    file_name: String,
    kind: &'static str,
    at: String,
    ok: bool,
    /// The summary (imported) or the first errors (refused).
    lines: Vec<String>,
    moved_to: String,
    problem: String,
}

/// The watched import folder, when the server has one.
struct Folder {
    dir: String,
    last_poll: String,
    waiting: Vec<String>,
    problem: String,
    rows: Vec<FolderRow>,
}

fn folder(state: &AppState) -> Option<Folder> {
    use aanwezig_app::import_dir::DropResult;
    let status = state.import_dir.as_ref()?;
    let when = super::student::local_time_nl;
    Some(Folder {
        dir: status.dir().display().to_string(),
        last_poll: status.last_poll().map(when).unwrap_or_default(),
        waiting: status.waiting(),
        problem: status.problem().unwrap_or_default(),
        rows: status
            .outcomes()
            .into_iter()
            .map(|o| FolderRow {
                ok: o.is_ok(),
                file_name: o.file_name,
                kind: o.kind.label(),
                at: when(o.at),
                lines: match o.result {
                    DropResult::Imported { summary, .. } => summary,
                    DropResult::Failed { errors, total } => {
                        let mut lines = errors;
                        if total > lines.len() {
                            lines.push(format!(
                                "en nog {}",
                                counted_nl((total - lines.len()) as u64, "fout", "fouten")
                            ));
                        }
                        lines
                    }
                },
                moved_to: o.moved_to.unwrap_or_default(),
                problem: o.problem.unwrap_or_default(),
            })
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "import.html")]
struct UploadPage {
    layout: Layout,
    /// The watched import folder and what it did.
    folder: Option<Folder>,
    kind: &'static str,
    /// The saved format, and every format with its label.
    format: &'static str,
    formats: Vec<(&'static str, &'static str)>,
    no_calendar: bool,
    errors: Vec<ErrorRow>,
    omitted: usize,
    error_file: String,
    message: Option<String>,
    log: Vec<LogRow>,
}

async fn upload_page(
    state: &AppState,
    user: &CurrentUser,
    kind: ImportKind,
    errors: Option<ImportErrors>,
    message: Option<String>,
) -> Result<UploadPage, PageError> {
    let no_calendar = state.read()?.cal.is_none();
    let log = state
        .store
        .imports()
        .await?
        .into_iter()
        .rev()
        .take(10)
        .map(|e| LogRow {
            file_name: e.source.file_name,
            by: e.source.imported_by,
            at: super::student::local_time_nl(e.source.at),
            rows: count_nl(e.summary.rows),
            inserted: count_nl(e.summary.inserted),
            updated: count_nl(e.summary.updated),
            unchanged: count_nl(e.summary.unchanged),
        })
        .collect();
    let (rows, omitted, error_file) = match errors {
        Some(e) => (
            e.errors
                .iter()
                .map(|r| ErrorRow {
                    file: e.file.clone(),
                    line: r.line.map(|l| l.to_string()).unwrap_or_default(),
                    column: r.column.as_deref().unwrap_or_default().to_owned(),
                    message: r.text(),
                })
                .collect(),
            e.omitted,
            e.file,
        ),
        None => (Vec::new(), 0, String::new()),
    };
    let format = import_settings(state).await?.format.as_str();
    Ok(UploadPage {
        layout: Layout::new(user, section::IMPORT, "Importeren"),
        folder: folder(state),
        kind: kind.label(),
        format,
        formats: Format::ALL
            .iter()
            .map(|f| (f.as_str(), f.label_nl()))
            .collect(),
        no_calendar,
        errors: rows,
        omitted,
        error_file,
        message,
        log,
    })
}

async fn upload_form(
    State(state): State<AppState>,
    Import(user): Import,
) -> Result<UploadPage, PageError> {
    upload_page(&state, &user, ImportKind::Registrations, None, None).await
}

// --- POST /importeren: check and preview -------------------------------------------

fn is_workbook_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    ["xlsx", "xlsm", "xlsb", "xls", "ods"]
        .into_iter()
        .find(|w| *w == ext)
}

/// The workbook extension of an upload, by name or else by its first bytes
/// (a zip file is taken for XLSX).
fn workbook_ext(name: &str, bytes: &[u8]) -> Option<&'static str> {
    is_workbook_name(name).or_else(|| bytes.starts_with(b"PK\x03\x04").then_some("xlsx"))
}

fn bad_upload(msg: impl Into<String>) -> PageError {
    PageError::BadRequest(msg.into())
}

/// Writes a workbook upload to a temporary file for calamine, which reads
/// from a path; the file is removed when the returned handle drops.
fn temp_workbook(bytes: &[u8], ext: &str) -> Result<tempfile::NamedTempFile, ImportErrors> {
    let fail = |e: std::io::Error| ImportErrors {
        file: "upload".into(),
        errors: vec![aanwezig_import::RowError {
            line: None,
            column: None,
            message: format!("kan de werkmap niet tijdelijk opslaan: {e}"),
            count: 1,
        }],
        omitted: 0,
    };
    let mut f = tempfile::Builder::new()
        .prefix("aanwezig-import-")
        .suffix(&format!(".{ext}"))
        .tempfile()
        .map_err(fail)?;
    f.write_all(bytes).map_err(fail)?;
    f.flush().map_err(fail)?;
    Ok(f)
}

/// Parses an upload of students, with its warnings.
fn parse_students(
    name: &str,
    bytes: &[u8],
    checks: StudentChecks<'_>,
) -> Result<StudentsFile, ImportErrors> {
    match workbook_ext(name, bytes) {
        Some(ext) => {
            let tmp = temp_workbook(bytes, ext)?;
            let mut f = aanwezig_import::read_students_xlsx_checked(tmp.path(), checks)
                .map_err(|e| rename(e, name))?;
            f.warnings.file = name.to_owned();
            Ok(f)
        }
        None => aanwezig_import::read_students_checked(bytes, name, checks),
    }
}

/// Errors of a temporary file carry the upload's name instead.
fn rename(mut e: ImportErrors, name: &str) -> ImportErrors {
    e.file = name.to_owned();
    e
}

async fn preview(
    State(state): State<AppState>,
    Import(user): Import,
    req: Request,
) -> Result<Response, PageError> {
    // The role first: a refused user learns nothing about the body.
    let mut multipart = Multipart::from_request(req, &state).await.map_err(|_| {
        bad_upload(
            "Het bestand kwam niet goed binnen. Kies het bestand opnieuw en probeer het nog eens.",
        )
    })?;
    let mut kind = ImportKind::Registrations;
    let mut request = Choices::default();
    let mut file: Option<(String, Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad_upload(format!("Het inlezen ging mis: {e}")))?
    {
        match field.name() {
            Some("soort") => {
                let v = field
                    .text()
                    .await
                    .map_err(|e| bad_upload(format!("Het inlezen ging mis: {e}")))?;
                kind = match v.trim() {
                    "leerlingen" => ImportKind::Students,
                    "registraties" => ImportKind::Registrations,
                    "rooster" => ImportKind::Timetable,
                    other => return Err(bad_upload(format!("Onbekende soort bestand '{other}'."))),
                };
            }
            Some(field_name @ ("formaat" | "van" | "tot")) => {
                let field_name = field_name.to_owned();
                let v = field
                    .text()
                    .await
                    .map_err(|e| bad_upload(format!("Het inlezen ging mis: {e}")))?;
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                if field_name == "formaat" {
                    request.format = Some(
                        Format::parse(v)
                            .ok_or_else(|| bad_upload(format!("Onbekend formaat '{v}'.")))?,
                    );
                } else {
                    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map_err(|_| bad_upload(format!("'{v}' is geen datum (JJJJ-MM-DD).")))?;
                    if field_name == "van" {
                        request.from = Some(date);
                    } else {
                        request.until = Some(date);
                    }
                }
            }
            Some("bestand") => {
                let name = field
                    .file_name()
                    .map(|n| {
                        // Only the name: browsers on some systems send a path.
                        n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned()
                    })
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "upload.csv".into());
                let bytes = field.bytes().await.map_err(|e| {
                    bad_upload(format!(
                        "Het inlezen ging mis (is het bestand groter dan 256 MB?): {e}"
                    ))
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let page = upload_page(
            &state,
            &user,
            kind,
            None,
            Some(
                "Kies een bestand om te importeren; het gekozen bestand is leeg of ontbreekt."
                    .into(),
            ),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    // Hashing 256 MB takes a moment: not on the async workers.
    let sha256 = {
        let b = bytes.clone();
        tokio::task::spawn_blocking(move || format!("{:x}", Sha256::digest(&b)))
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
    };

    if let (Some(f), Some(u)) = (request.from, request.until) {
        if u < f {
            return Err(bad_upload(format!(
                "De periode klopt niet: 'tot en met' ({}) ligt voor 'vanaf' ({}).",
                date_nl(u),
                date_nl(f)
            )));
        }
    }
    let checked = check(&state, kind, request, &name, bytes.clone()).await?;
    let (payload, total, preview) = match checked {
        Ok(c) => c,
        Err(errors) => {
            let page = upload_page(&state, &user, kind, Some(errors), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    // The rows are checked; only the file waits, on disk.
    drop(payload);
    let file = tokio::task::spawn_blocking(move || keep_on_disk(&bytes))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|e| PageError::Internal(format!("tijdelijk bestand: {e}")))?;
    let now = state.clock.now();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    {
        let mut jobs = jobs_lock(&state)?;
        // One waiting preview per user: a new upload replaces the last.
        jobs.retain(|_, j| {
            !(j.owner == user.user.username && matches!(j.phase, Phase::Pending(_)))
        });
        jobs.insert(
            id,
            ImportJob {
                owner: user.user.username.clone(),
                created: now,
                file_name: name,
                sha256,
                kind,
                request,
                total,
                done: Arc::new(AtomicU64::new(0)),
                preview,
                phase: Phase::Pending(file),
            },
        );
    }
    Ok(Redirect::to(&format!("/importeren/{id}")).into_response())
}

type Checked = Result<(Payload, u64, Preview), ImportErrors>;

async fn check_students(state: &AppState, name: &str, bytes: Bytes) -> Result<Checked, PageError> {
    // A mentor is known by user name or display name, in any case. Before
    // the first account exists there is nothing to check against.
    let users = state.store.users().await?;
    let check_mentors = !users.is_empty();
    let names: HashSet<String> = users
        .into_iter()
        .flat_map(|u| [u.username.to_lowercase(), u.display_name.to_lowercase()])
        .collect();
    let today = state.clock.today();
    let n = name.to_owned();
    let parsed = tokio::task::spawn_blocking(move || {
        let known = |m: &str| names.contains(&m.trim().to_lowercase());
        let checks = StudentChecks {
            today: Some(today),
            known_mentor: check_mentors.then_some(&known as &dyn Fn(&str) -> bool),
        };
        parse_students(&n, &bytes, checks)
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let StudentsFile {
        rows,
        numbers,
        warnings,
    } = match parsed {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let stored: HashMap<String, StoredStudent> = state
        .store
        .students()
        .await?
        .into_iter()
        .map(|s| (s.student.id.to_string(), s))
        .collect();
    let students: Vec<StoredStudent> = rows
        .into_iter()
        .map(|r| StoredStudent {
            student: r.student,
            left_on: r.left_on,
        })
        .collect();
    let (mut new, mut changed, mut same) = (0, 0, 0);
    for s in &students {
        match stored.get(s.student.id.as_str()) {
            None => new += 1,
            Some(old) => {
                // A number column the file lacks changes nothing.
                let mut after = s.clone();
                if !numbers.bsn {
                    after.student.bsn.clone_from(&old.student.bsn);
                }
                if !numbers.onderwijsnummer {
                    after
                        .student
                        .onderwijsnummer
                        .clone_from(&old.student.onderwijsnummer);
                }
                if *old == after {
                    same += 1;
                } else {
                    changed += 1;
                }
            }
        }
    }
    let classes: HashSet<&str> = students.iter().map(|s| s.student.class.as_str()).collect();
    // How many students have a number: counts only, never the numbers.
    let mut number_figures = Vec::new();
    let mut notes = Vec::new();
    for (given, label, column) in [
        (numbers.bsn, "met een BSN", "bsn"),
        (
            numbers.onderwijsnummer,
            "met een onderwijsnummer",
            "onderwijsnummer",
        ),
    ] {
        if given {
            let has = students
                .iter()
                .filter(|s| match column {
                    "bsn" => s.student.bsn.is_some(),
                    _ => s.student.onderwijsnummer.is_some(),
                })
                .count();
            number_figures.push(Figure {
                label: label.into(),
                value: has as u64,
            });
        } else {
            notes.push(format!(
                "Het bestand heeft geen kolom {column}: de {} die al bekend zijn, blijven staan.",
                if column == "bsn" {
                    "BSN's"
                } else {
                    "onderwijsnummers"
                }
            ));
        }
    }
    if numbers.bsn || numbers.onderwijsnummer {
        notes.push(
            "Een lege cel in de kolom bsn of onderwijsnummer wist het nummer dat al bekend was."
                .into(),
        );
    }
    let mut figures = vec![
        fig("leerlingen in het bestand", students.len() as u64),
        fig("klassen", classes.len() as u64),
        fig("nieuw", new),
        fig("gewijzigd", changed),
        fig("ongewijzigd", same),
    ];
    figures.extend(number_figures);
    let preview = Preview {
        figures,
        header: vec![
            "leerlingnummer",
            "naam",
            "klas",
            "mentor",
            "geboortedatum",
            "uitgeschreven op",
        ],
        rows: students
            .iter()
            .take(PREVIEW_ROWS)
            .map(|s| {
                vec![
                    s.student.id.to_string(),
                    s.student.name.clone(),
                    s.student.class.clone(),
                    s.student.mentor.clone(),
                    s.student.date_of_birth.to_string(),
                    s.left_on.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
        notes,
        warnings: warnings.lines(),
        ..Preview::default()
    };
    let total = students.len() as u64;
    Ok(Ok((Payload::Students(students, numbers), total, preview)))
}

/// The school's saved import settings (format, column names).
pub async fn import_settings(state: &AppState) -> Result<ImportSettings, PageError> {
    match state.store.settings(DocumentKind::Import).await? {
        None => Ok(ImportSettings::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| PageError::Internal(format!("importinstellingen onleesbaar: {e}"))),
    }
}

fn no_calendar(name: &str) -> ImportErrors {
    ImportErrors::single(
        name,
        None,
        "er is nog geen schoolkalender: zonder kalender kan aanwezig geen registraties of rooster controleren. De beheerder stelt die eerst in.".into(),
    )
}

async fn check_registrations(
    state: &AppState,
    request: Choices,
    name: &str,
    bytes: Bytes,
) -> Result<Checked, PageError> {
    let mut settings = import_settings(state).await?;
    if let Some(f) = request.format {
        settings.format = f;
    }
    let today = state.clock.today();
    let (cal, policy, known, weeks) = {
        let live = state.read()?;
        let Some(cal) = live.cal.clone() else {
            return Ok(Err(no_calendar(name)));
        };
        let known: HashSet<String> = live
            .school
            .students()
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        // Somtoday periods are expanded over each student's timetable.
        let weeks: HashMap<String, WeekSchedule> = if settings.format.is_periods() {
            live.school
                .students()
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let week = live.school.context(i).week.clone()?;
                    Some((s.id.to_string(), week))
                })
                .collect()
        } else {
            HashMap::new()
        };
        (cal, live.policy.clone(), known, weeks)
    };
    let presence = policy.presence;
    let n = name.to_owned();
    let how = settings.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let week_of = |id: &str| weeks.get(id).cloned();
        let options = ReadOptions {
            settings: &how,
            week_of: Some(&week_of),
            open_until: Some(request.until.unwrap_or(today)),
        };
        match workbook_ext(&n, &bytes) {
            Some(ext) => {
                let tmp = temp_workbook(&bytes, ext)?;
                aanwezig_import::read_registrations_file_report(
                    tmp.path(),
                    &cal,
                    &policy,
                    options,
                    |id| known.contains(id),
                )
                .map_err(|e| rename(e, &n))
            }
            None => aanwezig_import::read_registrations_report(
                &bytes[..],
                &n,
                &cal,
                &policy,
                options,
                |id| known.contains(id),
            ),
        }
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let (records, report) = match parsed {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let wanted = settings.presence(presence);
    let plan = Plan {
        presence: (wanted != presence).then_some(wanted),
        absences_only: (wanted == Presence::Implied).then_some(AbsencesOnly {
            from: request.from,
            until: request.until,
        }),
        codes_to_add: report.codes_to_add(),
    };
    let preview = registrations_preview(state, &records, &report, &plan, &settings)?;
    let total = records.len() as u64;
    Ok(Ok((Payload::Registrations(records, plan), total, preview)))
}

/// Counts per category, the period, an estimate of new, changed and
/// unchanged lessons against the live school (which knows categories and
/// minutes but not codes and notes: hence "estimate"), and for an export
/// of absences only how many stored absences in its period become present.
fn registrations_preview(
    state: &AppState,
    records: &[RegistrationRecord],
    report: &ReadReport,
    plan: &Plan,
    settings: &ImportSettings,
) -> Result<Preview, PageError> {
    let mut per_cat: BTreeMap<Category, u64> = BTreeMap::new();
    let mut students = HashSet::new();
    let (mut new, mut changed, mut same) = (0u64, 0u64, 0u64);
    let mut notes = report.notes();
    let mut retracted = None;
    {
        let live = state.read()?;
        let cal = live.cal.as_ref();
        let mut in_file: HashSet<(usize, u16, u8)> = HashSet::new();
        for r in records {
            *per_cat.entry(r.category).or_default() += 1;
            students.insert(r.student.as_str());
            let at =
                cal.and_then(|cal| Some((live.school.position(&r.student)?, cal.index(r.date)?)));
            if let Some((i, day)) = at {
                if plan.absences_only.is_some() {
                    in_file.insert((i, day, r.lesson));
                }
            }
            let current = at.and_then(|(i, day)| {
                let regs = live.school.registrations(i);
                regs.binary_search_by_key(&(day, r.lesson), |x| x.key())
                    .ok()
                    .map(|k| regs[k])
            });
            match current {
                None => new += 1,
                Some(c)
                    if c.category == r.category
                        && c.minutes == r.minutes
                        && c.minutes_late == r.minutes_late =>
                {
                    same += 1
                }
                Some(_) => changed += 1,
            }
        }
        if let (Some(wanted), Some(cal)) = (plan.absences_only, cal) {
            let from = wanted.from.or(report.first);
            let until = wanted.until.or(report.last);
            if let (Some(from), Some(until)) = (from, until) {
                let days = (cal.on_or_after(from), cal.on_or_before(until));
                let mut n = 0u64;
                if let (Some(a), Some(b)) = days {
                    for i in 0..live.school.students().len() {
                        n += live
                            .school
                            .registrations(i)
                            .iter()
                            .filter(|r| r.day >= a && r.day <= b)
                            .filter(|r| r.category != Category::Present)
                            .filter(|r| !in_file.contains(&(i, r.day, r.lesson)))
                            .count() as u64;
                    }
                }
                retracted = Some((from, until, n));
            }
        }
    }
    if let Some(p) = plan.presence {
        notes.push(match p {
            Presence::Implied => "Het beleid gaat na deze import uit van een export met alleen afwezigheid: een les zonder registratie is een les waarin de leerling er was.".to_owned(),
            Presence::Registered => "Het beleid gaat na deze import uit van een export met alle lessen: alleen geregistreerde lessen tellen.".to_owned(),
        });
    }
    let mut figures = vec![
        fig("registraties in het bestand", records.len() as u64),
        fig("leerlingen", students.len() as u64),
        fig("nieuwe lessen", new),
        fig("gewijzigde lessen", changed),
        fig("ongewijzigde lessen", same),
    ];
    if let Some((_, _, n)) = retracted {
        figures.push(fig(
            "lessen die weer aanwezig worden (staan niet meer in de export)",
            n,
        ));
    }
    figures.extend(per_cat.into_iter().map(|(c, n)| Figure {
        label: format!("categorie: {}", c.label_nl()),
        value: n,
    }));
    let span = |f: NaiveDate, l: NaiveDate| {
        if f == l {
            date_nl(f)
        } else {
            format!("{} tot en met {}", date_nl(f), date_nl(l))
        }
    };
    let period = match retracted {
        Some((f, u, _)) => Some(format!(
            "{} (export met alleen afwezigheid: een eerder geregistreerde afwezigheid in deze periode die niet in het bestand staat, wordt aanwezig)",
            span(f, u)
        )),
        None => match (report.first, report.last) {
            (Some(f), Some(l)) => Some(span(f, l)),
            _ => None,
        },
    };
    let label_of = |c: &str| {
        aanwezig_import::mapping::FIELDS
            .iter()
            .find(|f| f.name == c)
            .map_or(c, |f| f.label_nl)
            .to_owned()
    };
    Ok(Preview {
        figures,
        period,
        estimate: true,
        header: vec![
            "leerlingnummer",
            "datum",
            "lesuur",
            "minuten",
            "code",
            "categorie",
            "minuten te laat",
            "notitie",
        ],
        rows: records
            .iter()
            .take(PREVIEW_ROWS)
            .map(|r| {
                vec![
                    r.student.to_string(),
                    r.date.to_string(),
                    r.lesson.to_string(),
                    r.minutes.to_string(),
                    r.code.clone().unwrap_or_default(),
                    r.category.label_nl().to_owned(),
                    if r.minutes_late > 0 {
                        r.minutes_late.to_string()
                    } else {
                        String::new()
                    },
                    r.note.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        mapping: std::iter::once(("formaat".to_owned(), settings.format.label_nl().to_owned()))
            .chain(report.columns.iter().map(|(c, n)| (n.clone(), label_of(c))))
            .collect(),
        other_columns: report.other_columns.join(", "),
        notes,
        codes_to_add: plan
            .codes_to_add
            .iter()
            .map(|(c, cat)| format!("{c} = {}", cat.label_nl()))
            .collect(),
        warnings: Vec::new(),
    })
}

async fn check_timetable(state: &AppState, name: &str, bytes: Bytes) -> Result<Checked, PageError> {
    let (cal, students) = {
        let live = state.read()?;
        let Some(cal) = live.cal.clone() else {
            return Ok(Err(no_calendar(name)));
        };
        (cal, live.school.students().to_vec())
    };
    let n = name.to_owned();
    let parsed = tokio::task::spawn_blocking(move || match workbook_ext(&n, &bytes) {
        Some(ext) => {
            let tmp = temp_workbook(&bytes, ext)?;
            aanwezig_import::read_timetable_file(tmp.path(), &cal).map_err(|e| rename(e, &n))
        }
        None => aanwezig_import::read_timetable(&bytes[..], &n, &cal),
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let timetable = match parsed {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let classes: HashSet<&str> = timetable
        .rows
        .iter()
        .filter_map(|r| match &r.group {
            Group::Class(c) => Some(c.as_str()),
            Group::Student(_) => None,
        })
        .collect();
    let own: HashSet<&str> = timetable
        .rows
        .iter()
        .filter_map(|r| match &r.group {
            Group::Student(s) => Some(s.as_str()),
            Group::Class(_) => None,
        })
        .collect();
    let mut notes = Vec::new();
    let without: Vec<&str> = {
        let mut v: Vec<&str> = students
            .iter()
            .map(|s| s.class.as_str())
            .filter(|c| !classes.contains(c))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if !without.is_empty() {
        notes.push(format!(
            "Deze klassen staan niet in het rooster; voor hen geldt het lesrooster van de kalender: {}.",
            without.join(", ")
        ));
    }
    let weekday = |w: chrono::Weekday| aanwezig_domain::explain::weekday_nl(w).to_owned();
    let preview = Preview {
        figures: vec![
            fig("regels", timetable.rows.len() as u64),
            fig("klassen", classes.len() as u64),
            fig("leerlingen met een eigen rooster", own.len() as u64),
        ],
        header: vec!["klas of leerling", "dag", "lesuren", "vanaf", "tot en met"],
        rows: timetable
            .rows
            .iter()
            .take(PREVIEW_ROWS)
            .map(|r| {
                let numbers: Vec<String> = r.lessons.numbers().map(|n| n.to_string()).collect();
                vec![
                    match &r.group {
                        Group::Class(c) => format!("klas {c}"),
                        Group::Student(s) => format!("leerling {s}"),
                    },
                    weekday(r.weekday),
                    numbers.join(", "),
                    r.from.map(date_nl).unwrap_or_default(),
                    r.until.map(date_nl).unwrap_or_default(),
                ]
            })
            .collect(),
        notes,
        ..Preview::default()
    };
    let total = timetable.rows.len() as u64;
    Ok(Ok((Payload::Timetable(timetable), total, preview)))
}

// --- GET /importeren/{id}: preview, progress, result ---------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "import_job.html")]
struct JobPage {
    layout: Layout,
    id: u64,
    file_name: String,
    kind: &'static str,
    total: u64,
    done: u64,
    /// `pending`, `running`, `done` or `failed`.
    phase: &'static str,
    preview: Preview,
    outcome: Option<Outcome>,
    failure: String,
}

impl JobPage {
    /// A count with Dutch thousands separators.
    fn nl(&self, v: &u64) -> String {
        count_nl(*v)
    }

    /// A figure's label as a table heading: `Nieuwe lessen`.
    fn cap(&self, s: &str) -> String {
        capitalize_nl(s)
    }
}

impl UploadPage {
    /// The values of the `category` column with their Dutch names.
    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_nl()))
            .collect()
    }
}

async fn job_page(
    State(state): State<AppState>,
    Import(user): Import,
    Path(id): Path<u64>,
) -> Result<JobPage, PageError> {
    let jobs = jobs_lock(&state)?;
    let job = jobs
        .get(&id)
        .filter(|j| j.owner == user.user.username)
        .ok_or(PageError::NotFound)?;
    let (phase, outcome, failure) = match &job.phase {
        Phase::Pending(_) => ("pending", None, String::new()),
        Phase::Running => ("running", None, String::new()),
        Phase::Done(o) => ("done", Some(o.clone()), String::new()),
        Phase::Failed(m) => ("failed", None, m.clone()),
    };
    let title = match phase {
        "pending" => "Controle van het bestand",
        "running" => "Bezig met importeren",
        "done" => "Import klaar",
        _ => "Import mislukt",
    };
    Ok(JobPage {
        layout: Layout::new(&user, section::IMPORT, title),
        id,
        file_name: job.file_name.clone(),
        kind: job.kind.label(),
        total: job.total,
        done: job.done.load(Ordering::Relaxed).min(job.total),
        phase,
        preview: job.preview.clone(),
        outcome,
        failure,
    })
}

// --- POST /importeren/{id}/bevestigen -------------------------------------------------

/// The confirmation form: whether to add the derived codes to the policy.
#[derive(Debug, Default, serde::Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    codes_toevoegen: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    Import(user): Import,
    Path(id): Path<u64>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let add_codes = form.codes_toevoegen.is_some();
    let (file, source, kind, request, done) = {
        let mut jobs = jobs_lock(&state)?;
        let job = jobs
            .get_mut(&id)
            .filter(|j| j.owner == user.user.username)
            .ok_or(PageError::NotFound)?;
        if !matches!(job.phase, Phase::Pending(_)) {
            // Confirmed twice (a double click, the back button): show where it is.
            return Ok(Redirect::to(&format!("/importeren/{id}")).into_response());
        }
        let Phase::Pending(file) = std::mem::replace(&mut job.phase, Phase::Running) else {
            return Err(PageError::Internal("importtoestand onverwacht".into()));
        };
        let source = ImportSource {
            file_name: job.file_name.clone(),
            sha256: job.sha256.clone(),
            imported_by: user.user.username.clone(),
            at: state.clock.now(),
        };
        (file, source, job.kind, job.request, job.done.clone())
    };
    let task_state = state.clone();
    tokio::spawn(async move {
        let result = match reread(&task_state, kind, request, &source.file_name, file).await {
            Ok(payload) => run_import(&task_state, payload, &source, add_codes, done).await,
            Err(e) => Err(e),
        };
        let detail = match &result {
            Ok(o) => format!(
                "{} ({}): {} {}, {} nieuw, {} gewijzigd, {} ongewijzigd{}",
                source.file_name,
                kind.label(),
                o.rows,
                if o.rows == 1 { "regel" } else { "regels" },
                o.inserted,
                o.updated,
                o.unchanged,
                match &o.covered {
                    Some(p) => format!(", {} weer aanwezig in {p}", o.retracted),
                    None => String::new(),
                }
            ),
            Err(e) => format!(
                "{} ({}): mislukt, niets opgeslagen: {e}",
                source.file_name,
                kind.label()
            ),
        };
        if let Err(e) = user
            .audit(&task_state, AuditAction::Import, None, detail)
            .await
        {
            tracing::error!(error = %e, "audit of an import failed");
        }
        let phase = match result {
            Ok(o) => Phase::Done(o),
            Err(e) => {
                tracing::warn!(error = %e, "import failed");
                Phase::Failed(match e {
                    PageError::Internal(_) => {
                        "Er ging iets mis bij het schrijven naar de database.".into()
                    }
                    other => other.to_string(),
                })
            }
        };
        if let Ok(mut jobs) = task_state.imports.lock() {
            if let Some(job) = jobs.get_mut(&id) {
                job.phase = phase;
            }
        }
    });
    Ok(Redirect::to(&format!("/importeren/{id}")).into_response())
}

/// Reads a confirmed upload back from disk and checks it again against the
/// school as it is now.
async fn reread(
    state: &AppState,
    kind: ImportKind,
    request: Choices,
    name: &str,
    file: tempfile::NamedTempFile,
) -> Result<Payload, PageError> {
    let bytes = tokio::fs::read(file.path())
        .await
        .map_err(|e| PageError::Internal(format!("tijdelijk bestand: {e}")))?;
    drop(file);
    match check(state, kind, request, name, Bytes::from(bytes)).await? {
        Ok((payload, _, _)) => Ok(payload),
        Err(errors) => Err(PageError::BadRequest(format!(
            "Het bestand past niet meer bij de gegevens zoals ze nu zijn (er is intussen iets veranderd); er is niets ingelezen. Lees het opnieuw in om te zien wat niet klopt. Eerste fout: {}",
            errors
                .errors
                .first()
                .map(|e| e.message.as_str())
                .unwrap_or("onbekend")
        ))),
    }
}

async fn run_import(
    state: &AppState,
    payload: Payload,
    source: &ImportSource,
    add_codes: bool,
    done: Arc<AtomicU64>,
) -> Result<Outcome, PageError> {
    let progress = {
        let done = done.clone();
        move |_: usize, n: u64| done.store(n, Ordering::Relaxed)
    };
    let outcome = match payload {
        Payload::Students(students, numbers) => {
            let c = state.store.upsert_students_from(&students, numbers).await?;
            done.store(students.len() as u64, Ordering::Relaxed);
            Outcome {
                rows: students.len() as u64,
                inserted: c.inserted,
                updated: c.updated,
                unchanged: c.unchanged,
                ..Outcome::default()
            }
        }
        Payload::Registrations(records, plan) => {
            // The policy changes with the rows, in the same transaction.
            let codes = if add_codes {
                plan.codes_to_add
            } else {
                Vec::new()
            };
            let policy = if plan.presence.is_some() || !codes.is_empty() {
                let mut p = match state.store.policy().await? {
                    Some(p) => p,
                    None => state.read()?.policy.clone(),
                };
                if let Some(presence) = plan.presence {
                    p.presence = presence;
                }
                p.codes.extend(codes);
                Some(p)
            } else {
                None
            };
            let bundle = ImportBundle {
                calendar: None,
                policy: policy.as_ref(),
                timetable: None,
                students: &[],
                student_numbers: NumbersGiven::NONE,
                registrations: vec![(batches_of(&records), source.clone())],
                absences_only: plan.absences_only,
                by: &source.imported_by,
                at: source.at,
            };
            let b = state.store.import_bundle(bundle, &progress).await?;
            let s = b
                .registrations
                .first()
                .copied()
                .ok_or_else(|| PageError::Internal("de import gaf geen samenvatting".into()))?;
            done.store(s.rows, Ordering::Relaxed);
            Outcome {
                rows: s.rows,
                inserted: s.inserted,
                updated: s.updated,
                unchanged: s.unchanged,
                covered: b.covered.map(|(f, u)| {
                    if f == u {
                        date_nl(f)
                    } else {
                        format!("{} tot en met {}", date_nl(f), date_nl(u))
                    }
                }),
                retracted: b.retracted,
                policy_version: b.policy_version,
                timetable_version: None,
            }
        }
        Payload::Timetable(timetable) => {
            let bundle = ImportBundle {
                calendar: None,
                policy: None,
                timetable: Some(&timetable),
                students: &[],
                student_numbers: NumbersGiven::NONE,
                registrations: Vec::new(),
                absences_only: None,
                by: &source.imported_by,
                at: source.at,
            };
            let b = state.store.import_bundle(bundle, &progress).await?;
            let rows = timetable.rows.len() as u64;
            done.store(rows, Ordering::Relaxed);
            Outcome {
                rows,
                inserted: rows,
                timetable_version: b.timetable_version,
                ..Outcome::default()
            }
        }
    };
    // The data are in; a failed reload only delays what the pages show.
    if let Err(e) = state.reload().await {
        tracing::error!(error = %e, "reload after import failed");
    }
    Ok(outcome)
}

/// `/importeren…`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route(
            "/importeren",
            &[axum::http::Method::GET, axum::http::Method::POST],
            get(upload_form)
                .post(preview)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .get("/importeren/{id}", job_page)
        .post("/importeren/{id}/bevestigen", confirm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbooks_are_recognised_by_name_or_content() {
        assert_eq!(workbook_ext("a.XLSX", b""), Some("xlsx"));
        assert_eq!(workbook_ext("a.csv", b"student_id"), None);
        assert_eq!(workbook_ext("upload", b"PK\x03\x04rest"), Some("xlsx"));
    }
}
