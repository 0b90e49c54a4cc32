//! The values the [`Store`](crate::Store) takes and gives back, besides the
//! domain's own types: students as stored, imports, history, settings
//! documents, and the users, sessions and audit log of the web app.

use std::fmt;

use aanwezig_domain::case::PartnerIdentity;
use aanwezig_domain::{
    Category, DayIdx, NumbersGiven, Policy, Registration, RegistrationRecord, Role, SchoolYear,
    Student, StudentId,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A student as stored: the domain's [`Student`] plus the date the student
/// left the school, if any. Leaving does not delete anything: registrations
/// must be kept for five years after a student leaves (product.md, AVG).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStudent {
    pub student: Student,
    pub left_on: Option<NaiveDate>,
}

/// What an upsert did, row by row. `inserted + updated + unchanged` is the
/// number of rows given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Where an import of registrations came from; logged in the imports table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSource {
    /// The file's name as the user gave it (no directories needed).
    pub file_name: String,
    /// Hex SHA-256 of the file's bytes, to recognise the same file again.
    pub sha256: String,
    /// The user who ran the import.
    pub imported_by: String,
    /// When the import ran (the caller's clock: the crate reads none).
    pub at: DateTime<Utc>,
}

/// Registrations arriving in batches, for [`Store::import_bundle`]: a
/// reader can validate and hand over a file of millions of rows while it
/// reads, so that no one holds the whole file in memory. An `Err` item
/// (for example: the reader found a bad row) ends the import and rolls
/// everything back.
///
/// [`Store::import_bundle`]: crate::Store::import_bundle
pub type RecordBatches<'a> =
    futures::stream::BoxStream<'a, crate::error::Result<Vec<RegistrationRecord>>>;

/// `records` as [`RecordBatches`] (one batch per `BATCH_ROWS` records).
pub fn batches_of(records: &[RegistrationRecord]) -> RecordBatches<'_> {
    use futures::StreamExt;
    futures::stream::iter(records.chunks(BATCH_ROWS).map(|c| Ok(c.to_vec()))).boxed()
}

/// A good size for one batch of [`RecordBatches`]: large enough that the
/// per-batch cost vanishes, small enough to hold a few in flight.
pub const BATCH_ROWS: usize = 50_000;

/// Everything one import command writes, for [`Store::import_bundle`]:
/// a calendar and a policy version (when given), students, and files of
/// registrations, each with its own entry in the imports log.
///
/// [`Store::import_bundle`]: crate::Store::import_bundle
pub struct ImportBundle<'a> {
    pub calendar: Option<&'a [SchoolYear]>,
    pub policy: Option<&'a Policy>,
    /// A new version of the timetable.
    pub timetable: Option<&'a aanwezig_domain::Timetable>,
    pub students: &'a [StoredStudent],
    /// Which of the students' numbers the students file sets (see
    /// [`Store::upsert_students_from`](crate::Store::upsert_students_from)).
    pub student_numbers: NumbersGiven,
    pub registrations: Vec<(RecordBatches<'a>, ImportSource)>,
    /// Set when the files hold absences only: see [`AbsencesOnly`].
    pub absences_only: Option<AbsencesOnly>,
    /// Who saves the calendar and policy versions.
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

impl std::fmt::Debug for ImportBundle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportBundle")
            .field("calendar", &self.calendar)
            .field("policy", &self.policy)
            .field("timetable", &self.timetable.map(|t| t.rows.len()))
            .field("students", &self.students.len())
            .field("student_numbers", &self.student_numbers)
            .field(
                "registrations",
                &self
                    .registrations
                    .iter()
                    .map(|(_, s)| s)
                    .collect::<Vec<_>>(),
            )
            .field("absences_only", &self.absences_only)
            .field("by", &self.by)
            .field("at", &self.at)
            .finish()
    }
}

/// An import of absences only (policy `presence = "implied"`, as Magister
/// and Somtoday export): it covers a period, and within it a stored
/// absence or late arrival that no file of the import has any more became
/// present at school (the registration is corrected there and then; the
/// old state stays in its history). `from` and `until` default to the
/// first and the last date the files have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbsencesOnly {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// What [`Store::import_bundle`] wrote.
///
/// [`Store::import_bundle`]: crate::Store::import_bundle
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleSummary {
    pub calendar_version: Option<u32>,
    pub policy_version: Option<u32>,
    pub timetable_version: Option<u32>,
    pub students: Option<UpsertCounts>,
    /// One per file, in the order given.
    pub registrations: Vec<ImportSummary>,
    /// For an import of absences only: the period it covered and how many
    /// stored lessons became present.
    pub covered: Option<(NaiveDate, NaiveDate)>,
    pub retracted: u64,
}

/// The outcome of one import of registrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The id of the import in the imports log.
    pub import_id: i64,
    /// Rows given.
    pub rows: u64,
    /// Rows whose key (student, date, lesson) was new.
    pub inserted: u64,
    /// Rows that replaced a different stored state (each left one history
    /// entry).
    pub updated: u64,
    /// Rows identical to what was stored: nothing written for them.
    pub unchanged: u64,
}

/// One line of the imports log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLogEntry {
    pub summary: ImportSummary,
    pub source: ImportSource,
}

/// Who made a change, and when. A change is either an import (then
/// `import_id` is set and `by` is the importing user) or a single edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub at: DateTime<Utc>,
    pub by: String,
    pub import_id: Option<i64>,
}

/// A state a registration had before it was changed (rules.md §2: "every
/// change of a registration is kept in its history").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The registration as it was.
    pub old: RegistrationRecord,
    /// The change that had given it that state.
    pub set: Provenance,
    /// The change that replaced that state.
    pub replaced: Provenance,
}

// --- revisions of registered lessons ------------------------------------

/// The revision of a registered lesson: the id of the change set that gave
/// the lesson its current state. Every write that changes a lesson gives it
/// a new revision; a write that changes nothing keeps it. Forms and the API
/// carry it as a number, with `0` for a lesson that is not registered (see
/// [`Expected::from_token`] and [`StoredRegistration::token`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Revision(u64);

impl Revision {
    /// A revision from its number; `None` for 0, which is no revision.
    pub fn new(n: u64) -> Option<Revision> {
        (n > 0).then_some(Revision(n))
    }

    /// The number (never 0).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The key of a registered lesson.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LessonKey {
    pub student: StudentId,
    pub date: NaiveDate,
    pub lesson: u8,
}

impl LessonKey {
    /// The key of a record.
    pub fn of(record: &RegistrationRecord) -> LessonKey {
        LessonKey {
            student: record.student.clone(),
            date: record.date,
            lesson: record.lesson,
        }
    }
}

/// A lesson as stored: its state, its revision, and who gave it that state
/// when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRegistration {
    pub record: RegistrationRecord,
    pub revision: Revision,
    /// The change that set the current state (an import or an edit).
    pub set: Provenance,
}

impl StoredRegistration {
    /// The number a form or API client sends back to say which state it
    /// saw: the revision, or 0 for a lesson that is not registered.
    pub fn token(state: Option<&StoredRegistration>) -> u64 {
        state.map_or(0, |s| s.revision.get())
    }
}

/// What a write expects the stored lesson to be, checked in the same
/// transaction as the write (see [`Store::save_registrations`]).
///
/// [`Store::save_registrations`]: crate::Store::save_registrations
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expected {
    /// No check: the write replaces whatever is stored (imports, tools).
    Any,
    /// The lesson is not registered yet.
    Absent,
    /// The lesson is at this revision.
    Revision(Revision),
}

impl Expected {
    /// Whether a write of `record` expecting this may replace `current`
    /// (`None`: not registered): the stored state is the expected one, or
    /// already holds exactly `record` (then nothing is lost). The rule of
    /// [`Registrations::save_registrations`](crate::store::Registrations::save_registrations),
    /// the same in every backend.
    pub fn passes(self, current: Option<&StoredRegistration>, record: &RegistrationRecord) -> bool {
        let fresh = match (self, current) {
            (Expected::Any, _) | (Expected::Absent, None) => true,
            (Expected::Revision(r), Some(c)) => c.revision == r,
            (Expected::Absent, Some(_)) | (Expected::Revision(_), None) => false,
        };
        fresh || current.is_some_and(|c| &c.record == record)
    }

    /// The change whose state the writer read, when it names one: where a
    /// stale lesson's "then" is looked up.
    pub fn change_id(self) -> Option<i64> {
        match self {
            Expected::Revision(r) => i64::try_from(r.get()).ok(),
            Expected::Any | Expected::Absent => None,
        }
    }

    /// From the number a form or API client sent: 0 means "not
    /// registered", any other number a revision.
    pub fn from_token(n: u64) -> Expected {
        Revision::new(n).map_or(Expected::Absent, Expected::Revision)
    }

    /// The number of [`Expected::from_token`]; `None` for [`Expected::Any`].
    pub fn token(self) -> Option<u64> {
        match self {
            Expected::Any => None,
            Expected::Absent => Some(0),
            Expected::Revision(r) => Some(r.get()),
        }
    }
}

/// One lesson to write, with the state it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonWrite {
    pub record: RegistrationRecord,
    pub expected: Expected,
}

/// What a checked write did to one lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenLesson {
    /// The state it replaced (`None` for a lesson registered for the first
    /// time). Equal to the written record when nothing changed.
    pub previous: Option<StoredRegistration>,
    /// The lesson's revision after the write (the previous one when
    /// nothing changed).
    pub revision: Revision,
}

impl WrittenLesson {
    /// Whether the write changed the lesson.
    pub fn changed(&self, record: &RegistrationRecord) -> bool {
        self.previous.as_ref().map(|p| &p.record) != Some(record)
    }
}

/// A lesson that changed after the writer read it: why a checked write was
/// refused ([`StoreError::Stale`](crate::StoreError::Stale)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleLesson {
    pub key: LessonKey,
    /// What the writer expected.
    pub expected: Expected,
    /// The state at the expected revision, from the lesson's history;
    /// `None` when the writer expected no registration, or gave a revision
    /// this lesson never had.
    pub then: Option<RegistrationRecord>,
    /// The state now, with who set it when; `None` when the lesson is not
    /// registered (any more).
    pub now: Option<StoredRegistration>,
}

/// The kinds of settings document kept with every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The school years (`Vec<SchoolYear>`).
    Calendar,
    /// The school's [`Policy`](aanwezig_domain::Policy).
    Policy,
    /// The school's name, BRIN and vestiging (for DUO meldingen), as JSON
    /// the web app defines.
    School,
    /// How the app sends e-mail (SMTP server, sender), as JSON the web app
    /// defines.
    Mail,
    /// The timetable ([`Timetable`](aanwezig_domain::Timetable)).
    Timetable,
    /// How the school's registrations exports are read (format, column
    /// names), as JSON the import crate defines.
    Import,
}

impl DocumentKind {
    /// The name stored in the `documents.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Calendar => "calendar",
            DocumentKind::Policy => "policy",
            DocumentKind::School => "school",
            DocumentKind::Mail => "mail",
            DocumentKind::Timetable => "timetable",
            DocumentKind::Import => "import",
        }
    }
}

/// One saved version of a settings document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentVersion {
    pub kind: DocumentKind,
    /// 1 for the first version of a kind, then counting up without gaps.
    pub version: u32,
    /// The document as JSON, exactly as saved.
    pub json: String,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

// --- users, sessions, audit ---------------------------------------------

/// Someone who signs in.
///
/// `Debug` leaves out the password hash: a hash is not the password, but
/// it can be attacked offline, so it has no business in a log. For the
/// same reason the type is deliberately not `Serialize`: an API response
/// cannot include the hash by accident; serialise a view without it.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The key: lower case `a-z0-9._-` by the CLI's and web app's rules
    /// (`aanwezig_auth::check_username`); the store compares it exactly.
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The classes a mentor mentors, in the order given; empty for every
    /// other role.
    pub classes: Vec<String>,
    pub email: Option<String>,
    /// An inactive user cannot sign in; the account and its audit trail
    /// stay.
    pub active: bool,
    /// PHC string (argon2id), from `aanwezig_auth::hash_password`.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    /// The account's stable id: random, set by the store when the account
    /// is created ([`Store::create_user`] returns it and ignores this
    /// field), never changed and never given to another account, also not
    /// to a later account with the same username. What an account was
    /// given (a partner brought into a case) refers to this id.
    ///
    /// [`Store::create_user`]: crate::Store::create_user
    pub account_id: String,
}

impl User {
    /// The school date the account was created on: `created_at` in the
    /// server's local time zone, the zone the web app's "today" is read in.
    pub fn created_on(&self) -> NaiveDate {
        self.created_at.with_timezone(&chrono::Local).date_naive()
    }

    /// Who this account is for the case dossier's partner checks
    /// ([`Involvement::is_of`](aanwezig_domain::case::Involvement::is_of)).
    pub fn identity(&self) -> PartnerIdentity<'_> {
        PartnerIdentity {
            username: &self.username,
            account_id: &self.account_id,
            created_on: self.created_on(),
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("classes", &self.classes)
            .field("email", &self.email)
            .field("active", &self.active)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// A signed-in browser session.
///
/// The cookie holds a random secret token; the store keeps only its hash
/// (`id_hash`, from `aanwezig_auth::token_hash`), so a copy of the
/// database hands out no sessions. `Debug` leaves out the CSRF token, and
/// the type is not `Serialize` (nothing should send it anywhere).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie's token: the key.
    pub id_hash: String,
    pub username: String,
    /// The token forms must send back (checked against this session).
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id_hash", &self.id_hash)
            .field("username", &self.username)
            .field("csrf_token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .finish()
    }
}

/// What an audit entry records (product.md: "every read and change of a
/// student's data is written to an audit log").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A student's data were shown.
    Read,
    /// A student's data were changed.
    Change,
    /// Data left the application (a download, an AVG inzage export).
    Export,
    /// Data were imported.
    Import,
    /// Calendar, policy or other settings were changed.
    Settings,
    SignIn,
    SignOut,
    /// A sign-in was refused (wrong password, unknown or inactive user).
    SignInFailed,
    /// A user was created, changed or removed, or got a new password.
    UserAdmin,
    /// A student's data were purged (retention: five years after leaving).
    Purge,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::Read,
        AuditAction::Change,
        AuditAction::Export,
        AuditAction::Import,
        AuditAction::Settings,
        AuditAction::SignIn,
        AuditAction::SignOut,
        AuditAction::SignInFailed,
        AuditAction::UserAdmin,
        AuditAction::Purge,
    ];

    /// The name stored in the database (snake_case, like serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Read => "read",
            AuditAction::Change => "change",
            AuditAction::Export => "export",
            AuditAction::Import => "import",
            AuditAction::Settings => "settings",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignOut => "sign_out",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::UserAdmin => "user_admin",
            AuditAction::Purge => "purge",
        }
    }

    /// Parses [`AuditAction::as_str`].
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The Dutch name shown to people.
    pub fn label_nl(self) -> &'static str {
        match self {
            AuditAction::Read => "ingezien",
            AuditAction::Change => "gewijzigd",
            AuditAction::Export => "geëxporteerd",
            AuditAction::Import => "ingelezen",
            AuditAction::Settings => "instellingen",
            AuditAction::SignIn => "ingelogd",
            AuditAction::SignOut => "uitgelogd",
            AuditAction::SignInFailed => "inloggen mislukt",
            AuditAction::UserAdmin => "gebruikersbeheer",
            AuditAction::Purge => "verwijderd (bewaartermijn)",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit log. Entries are never changed or deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Who did it: a username, or for a failed sign-in the name that was
    /// typed. Not a reference to `users`: entries outlive the account.
    pub username: String,
    pub action: AuditAction,
    /// The student whose data were read or changed, if any.
    pub student: Option<StudentId>,
    /// What exactly, for people (Dutch). Never a password or a token.
    pub detail: String,
}

/// Which audit entries to read: newest first (by `at`, then by the order
/// written), at most `limit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only entries about this student.
    pub student: Option<StudentId>,
    /// Only entries by this user.
    pub username: Option<String>,
    /// At most this many entries; `0` gives none.
    pub limit: u32,
}

impl Default for AuditFilter {
    /// Everything, newest 100 entries.
    fn default() -> Self {
        AuditFilter {
            student: None,
            username: None,
            limit: 100,
        }
    }
}

/// One saved version of a case or melding draft: its number (1, 2, ...),
/// when and by whom it was saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedVersion {
    pub version: u32,
    pub saved_at: DateTime<Utc>,
    pub saved_by: String,
}

/// Which melding drafts [`Store::meldingen`](crate::Store::meldingen)
/// returns; every field that is set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeldingFilter {
    pub student: Option<StudentId>,
    pub status: Option<aanwezig_domain::MeldingStatus>,
    /// Only drafts overdue on this day: not registered and the deadline
    /// passed (the domain's `MeldingDraft::is_overdue`).
    pub overdue_on: Option<NaiveDate>,
}

/// What [`Store::purge_student`](crate::Store::purge_student) removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeCounts {
    pub registrations: u64,
    pub history: u64,
    /// Cases, each with all its versions.
    pub cases: u64,
    pub case_versions: u64,
    /// Melding drafts, each with all its versions.
    pub meldingen: u64,
    pub melding_versions: u64,
    /// Calls about the student's absences.
    #[serde(default)]
    pub calls: u64,
    /// "Afgestemd met leerplicht" records about the student's DUO signals.
    #[serde(default)]
    pub afstemmingen: u64,
    /// Audit entries about the student, kept but unlinked from them.
    #[serde(default)]
    pub audit_unlinked: u64,
}

/// A stored lesson as the engine needs it: a registration without its
/// code and note. What [`Store::lessons_stream`] gives, to load a whole
/// school quickly.
///
/// [`Store::lessons_stream`]: crate::Store::lessons_stream
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LessonState {
    pub date: NaiveDate,
    pub lesson: u8,
    pub minutes: u16,
    pub category: Category,
    pub minutes_late: u16,
}

impl LessonState {
    /// The engine form, on the school day `day` (the calendar's index of
    /// [`LessonState::date`]).
    pub fn to_registration(&self, day: DayIdx) -> Registration {
        Registration {
            day,
            minutes: self.minutes,
            minutes_late: self.minutes_late,
            lesson: self.lesson,
            category: self.category,
        }
    }
}

impl From<&RegistrationRecord> for LessonState {
    fn from(r: &RegistrationRecord) -> Self {
        LessonState {
            date: r.date,
            lesson: r.lesson,
            minutes: r.minutes,
            category: r.category,
            minutes_late: r.minutes_late,
        }
    }
}

/// What a checked write of a versioned record (a case, a melding draft, a
/// settings document) expects to find stored; see
/// [`StoreError::StaleVersion`](crate::StoreError::StaleVersion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionCheck {
    /// No check: the last write wins (tools, imports, tests).
    Any,
    /// The record must not exist yet.
    New,
    /// The stored version must be this one: the version the writer read.
    Version(u32),
}

impl VersionCheck {
    /// Whether a record stored at `stored` (`None`: none yet) passes.
    pub fn allows(self, stored: Option<u32>) -> bool {
        match self {
            VersionCheck::Any => true,
            VersionCheck::New => stored.is_none(),
            VersionCheck::Version(v) => stored == Some(v),
        }
    }
}

/// One settings document to save with
/// [`Documents::save_document_checked`](crate::store::Documents::save_document_checked).
#[derive(Clone, Copy, Debug)]
pub enum DocumentWrite<'a> {
    Calendar(&'a [aanwezig_domain::SchoolYear]),
    Policy(&'a aanwezig_domain::Policy),
    /// A [`School`](DocumentKind::School), [`Mail`](DocumentKind::Mail) or
    /// [`Import`](DocumentKind::Import) document as JSON.
    Settings(DocumentKind, &'a str),
}

impl DocumentWrite<'_> {
    /// The kind of document written.
    pub fn kind(&self) -> DocumentKind {
        match self {
            DocumentWrite::Calendar(_) => DocumentKind::Calendar,
            DocumentWrite::Policy(_) => DocumentKind::Policy,
            DocumentWrite::Settings(kind, _) => *kind,
        }
    }
}

/// What one committed change touched, for the servers that follow the
/// change feed ([`Changes`](crate::store::Changes)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Student records (added, changed): reload the student, or all
    /// students when the change names none.
    Students,
    /// Lesson registrations: re-evaluate the student, or the whole school
    /// when the change names none (an import).
    Registrations,
    /// A settings document (calendar, policy, timetable, school, mail,
    /// import): reload it; calendar, policy and timetable re-evaluate all.
    Document,
    /// A case dossier of the student.
    Case,
    /// A DUO melding draft about the student.
    Melding,
    /// A call about the student's absence.
    Call,
    /// An afstemming with leerplicht about the student.
    Afstemming,
    /// Users, feed tokens (not sessions).
    Accounts,
    /// Everything held on the student was removed.
    Purge,
}

impl ChangeKind {
    /// The name stored in the `changes.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Students => "students",
            ChangeKind::Registrations => "registrations",
            ChangeKind::Document => "document",
            ChangeKind::Case => "case",
            ChangeKind::Melding => "melding",
            ChangeKind::Call => "call",
            ChangeKind::Afstemming => "afstemming",
            ChangeKind::Accounts => "accounts",
            ChangeKind::Purge => "purge",
        }
    }

    /// The kind stored as `s`, if any.
    pub fn parse(s: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Students,
            ChangeKind::Registrations,
            ChangeKind::Document,
            ChangeKind::Case,
            ChangeKind::Melding,
            ChangeKind::Call,
            ChangeKind::Afstemming,
            ChangeKind::Accounts,
            ChangeKind::Purge,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One committed change in the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Its number in the database-wide sequence (only grows).
    pub number: i64,
    pub kind: ChangeKind,
    /// The student it is about; `None` for a change of many or of none.
    pub student: Option<StudentId>,
}
