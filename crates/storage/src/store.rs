//! The backend-neutral storage interface: one focused trait per concern
//! (students, registrations, imports, settings documents, accounts, audit,
//! cases, meldingen, retention, the change feed), and [`Store`], every one
//! of them together, which the application holds as `Arc<dyn Store>`.
//!
//! A caller that calls a method through `dyn Store` brings the traits into
//! scope with `use aanwezig_storage::prelude::*`.

use aanwezig_domain::{
    Case, MeldingDraft, NumbersGiven, Policy, RegistrationRecord, SchoolYear, StudentId,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;

use crate::error::Result;
use crate::model::{
    AuditEntry, AuditFilter, BundleSummary, Change, DocumentKind, DocumentVersion, DocumentWrite,
    Expected, HistoryEntry, ImportBundle, ImportLogEntry, ImportSource, ImportSummary, LessonKey,
    LessonState, LessonWrite, MeldingFilter, PurgeCounts, SavedVersion, SessionRecord,
    StoredRegistration, StoredStudent, UpsertCounts, User, VersionCheck, WrittenLesson,
};

/// A student's registrations, sorted by `(date, lesson)`.
pub type StudentRegistrations = (StudentId, Vec<RegistrationRecord>);

/// One student's lessons in engine terms, sorted by `(date, lesson)`.
pub type StudentLessons = (StudentId, Vec<LessonState>);

/// Students: who is enrolled, keyed by student number.
#[async_trait]
pub trait Students: Send + Sync {
    /// Inserts new students and updates changed ones, keyed by student
    /// number, in one transaction. A student given twice counts twice; the
    /// last one wins.
    /// The students are complete: their BSN and onderwijsnummer are set as
    /// given (`None` clears a stored one).
    async fn upsert_students(&self, students: &[StoredStudent]) -> Result<UpsertCounts> {
        self.upsert_students_from(students, NumbersGiven::ALL).await
    }

    /// [`Students::upsert_students`] for a source that may not speak about
    /// the numbers: a BSN or onderwijsnummer that is not `given` keeps its
    /// stored value (a new student gets none). This is a students file
    /// without a `bsn` or `onderwijsnummer` column; with the column, an
    /// empty cell clears the number.
    async fn upsert_students_from(
        &self,
        students: &[StoredStudent],
        given: NumbersGiven,
    ) -> Result<UpsertCounts>;

    /// All students, sorted by student number.
    async fn students(&self) -> Result<Vec<StoredStudent>>;

    /// One student, or `None`.
    async fn student(&self, id: &StudentId) -> Result<Option<StoredStudent>>;

    /// The number of students.
    async fn student_count(&self) -> Result<u64>;
}

/// Lesson registrations and their history: the engine's input.
#[async_trait]
pub trait Registrations: Send + Sync {
    /// Imports registrations, all or nothing, in one transaction, and logs
    /// the import.
    ///
    /// The key is (student, date, lesson). A record identical to the stored
    /// one writes nothing (`unchanged`); a different one replaces it and the
    /// old state goes to the history (`updated`); a new key is `inserted`.
    /// Records are applied in the order given, so a key given twice ends
    /// with its last record. A record for a student that is not stored is a
    /// [`Conflict`](crate::StoreError::Conflict) and nothing is written.
    ///
    /// `progress` is called now and then with the number of records done.
    async fn import_registrations(
        &self,
        records: &[RegistrationRecord],
        source: &ImportSource,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary>;

    /// Every student's registrations: one entry per student that has any,
    /// sorted by student number, each sorted by `(date, lesson)`.
    async fn registrations_all(&self) -> Result<Vec<StudentRegistrations>>;

    /// The same as [`Registrations::registrations_all`], one student at a time, so
    /// that a caller can evaluate while the rest still loads. The stream
    /// holds a read connection until it ends or is dropped.
    fn registrations_stream(&self) -> BoxStream<'_, Result<StudentRegistrations>>;

    /// Every student's lessons without codes and notes, one student at a
    /// time, in no particular order of students; the same lessons as
    /// [`Registrations::registrations_stream`]. The fast way to load a whole school
    /// for the engine. Holds a read connection until it ends or is dropped.
    fn lessons_stream(&self) -> BoxStream<'_, Result<StudentLessons>>;

    /// One student's registrations, sorted by `(date, lesson)`;
    /// [`NotFound`](crate::StoreError::NotFound) for an unknown student.
    async fn student_registrations(&self, id: &StudentId) -> Result<Vec<RegistrationRecord>>;

    /// The earlier states of one student's registrations, sorted by
    /// `(date, lesson)` and then oldest first;
    /// [`NotFound`](crate::StoreError::NotFound) for an unknown student.
    async fn registration_history(&self, id: &StudentId) -> Result<Vec<HistoryEntry>>;

    /// The total number of stored registrations.
    async fn registration_count(&self) -> Result<u64>;

    /// The current state of each lesson in `keys`, with its revision and
    /// who set it when, in the order given; `None` for a lesson that is not
    /// registered (or of a student that is not stored).
    async fn registration_states(
        &self,
        keys: &[LessonKey],
    ) -> Result<Vec<Option<StoredRegistration>>>;

    /// One student's registered lessons with their revisions, sorted by
    /// `(date, lesson)`; [`NotFound`](crate::StoreError::NotFound) for an
    /// unknown student.
    async fn student_registration_states(&self, id: &StudentId) -> Result<Vec<StoredRegistration>>;

    /// Registers or corrects lessons (a class's register, one correction,
    /// an API call), each checked against the state its writer read, in
    /// one transaction: all are written or none.
    ///
    /// Per write, before anything is written and inside the write
    /// transaction (so that it holds across processes, not just threads):
    /// a lesson whose stored revision is not the [`Expected`] one is
    /// *stale*, unless it already holds exactly the record to write (then
    /// there is nothing to lose). If any lesson is stale, nothing is written
    /// and the answer is [`Stale`](crate::StoreError::Stale) listing every
    /// stale lesson with what the writer expected and what is stored now.
    /// [`Expected::Any`] checks nothing (last write wins). A key given
    /// twice is checked once, against the state before this call.
    ///
    /// Identical records change nothing and leave no history; the changed
    /// ones share one change set (who and when), whose id is their new
    /// revision. A record for a student that is not stored is a
    /// [`Conflict`](crate::StoreError::Conflict). Returns, per write, the
    /// state it replaced and the lesson's revision afterwards.
    async fn save_registrations(
        &self,
        writes: &[LessonWrite],
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<WrittenLesson>>;

    /// Registers or corrects one lesson without a check (last write wins),
    /// returning the state it replaced (`None` for a new lesson). An
    /// identical record changes nothing and leaves no history.
    async fn set_registration(
        &self,
        record: &RegistrationRecord,
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<RegistrationRecord>> {
        let mut previous = self
            .set_registrations(std::slice::from_ref(record), changed_by, at)
            .await?;
        Ok(previous.pop().flatten())
    }

    /// [`Registrations::save_registrations`] without a check ([`Expected::Any`]:
    /// last write wins), for tools and tests: all are written or none.
    /// Returns, per record, the state it replaced.
    async fn set_registrations(
        &self,
        records: &[RegistrationRecord],
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<RegistrationRecord>>> {
        let writes: Vec<LessonWrite> = records
            .iter()
            .map(|r| LessonWrite {
                record: r.clone(),
                expected: Expected::Any,
            })
            .collect();
        let written = self.save_registrations(&writes, changed_by, at).await?;
        Ok(written
            .into_iter()
            .map(|w| w.previous.map(|p| p.record))
            .collect())
    }
}

/// Whole imports (calendar, policy, students and registrations at once) and their log.
#[async_trait]
pub trait Imports: Send + Sync {
    /// Writes what one import command brings, all or nothing, in one
    /// transaction: the calendar and policy versions (when given, after
    /// the same checks as [`Documents::save_calendar`] and
    /// [`Documents::save_policy`]), the students (as [`Students::upsert_students`])
    /// and each file of registrations (as [`Registrations::import_registrations`],
    /// one imports-log entry per file). A failure anywhere, also in the
    /// last file, leaves the database as it was.
    ///
    /// The registrations arrive as [`RecordBatches`](crate::RecordBatches): they are written as
    /// they come, and an `Err` batch rolls everything back.
    ///
    /// `progress` is called with the file's index and its records done.
    async fn import_bundle(
        &self,
        bundle: ImportBundle<'_>,
        progress: &(dyn Fn(usize, u64) + Send + Sync),
    ) -> Result<BundleSummary>;

    /// The imports log, oldest first.
    async fn imports(&self) -> Result<Vec<ImportLogEntry>>;
}

/// Versioned settings documents: calendar, policy, timetable, school and mail settings.
#[async_trait]
pub trait Documents: Send + Sync {
    /// Saves a new version of the calendar (validated first: an invalid
    /// calendar is [`Invalid`](crate::StoreError::Invalid)); returns its
    /// version number.
    async fn save_calendar(&self, years: &[SchoolYear], by: &str, at: DateTime<Utc>)
        -> Result<u32>;

    /// The latest calendar, or `None` when none was saved.
    async fn calendar(&self) -> Result<Option<Vec<SchoolYear>>>;

    /// Saves a new version of the policy (validated first); returns its
    /// version number.
    async fn save_policy(&self, policy: &Policy, by: &str, at: DateTime<Utc>) -> Result<u32>;

    /// The latest policy, or `None` when none was saved.
    async fn policy(&self) -> Result<Option<Policy>>;

    /// Saves a new version of a settings document of kind
    /// [`School`](DocumentKind::School) or [`Mail`](DocumentKind::Mail)
    /// (valid JSON, whose shape the caller owns); returns its version.
    /// Calendar and policy go through their own, validating methods: for
    /// them this is [`Invalid`](crate::StoreError::Invalid).
    async fn save_settings(
        &self,
        kind: DocumentKind,
        json: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32>;

    /// The latest timetable (saved with an import, see
    /// [`ImportBundle`](crate::ImportBundle)), or `None`.
    async fn timetable(&self) -> Result<Option<aanwezig_domain::Timetable>>;

    /// The latest settings document of a kind as JSON, or `None`.
    async fn settings(&self, kind: DocumentKind) -> Result<Option<String>>;

    /// Every saved version of one kind of document, oldest first.
    async fn document_versions(&self, kind: DocumentKind) -> Result<Vec<DocumentVersion>>;

    /// The latest version number of one kind of document, or `None` when
    /// none was saved: what a settings form carries back as the version it
    /// read.
    async fn document_version(&self, kind: DocumentKind) -> Result<Option<u32>>;

    /// Saves a new version of a settings document (calendar and policy
    /// validated first, as in [`Documents::save_calendar`] and
    /// [`Documents::save_policy`]) if the stored version is the one `check`
    /// expects, and writes `audit` in the same transaction: both or
    /// neither. A stale version is [`StaleVersion`](crate::StoreError::StaleVersion).
    /// Returns the new version number.
    async fn save_document_checked(
        &self,
        doc: DocumentWrite<'_>,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32>;
}

/// Users, their sign-in sessions and their calendar-feed tokens.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Adds a user and returns the account id the store gave it: a fresh
    /// random one, never used before (`user.account_id` is ignored);
    /// [`Conflict`](crate::StoreError::Conflict) when the username is
    /// taken. The store checks no username or password rules (that is
    /// `aanwezig_auth`'s job), only that a username is not empty and that a
    /// non-mentor has no classes.
    async fn create_user(&self, user: &User) -> Result<String>;

    /// All users, sorted by username.
    async fn users(&self) -> Result<Vec<User>>;

    /// One user, or `None`.
    async fn user(&self, username: &str) -> Result<Option<User>>;

    /// Replaces every field of the user with this username and account id
    /// (the hash and `created_at` too; the account id itself never
    /// changes); [`NotFound`](crate::StoreError::NotFound) when there is
    /// none, also when the name now belongs to another account. Sessions
    /// stay: call
    /// [`Accounts::delete_user_sessions`] after a new password or a
    /// deactivation.
    async fn update_user(&self, user: &User) -> Result<()>;

    /// Removes a user and all their sessions;
    /// [`NotFound`](crate::StoreError::NotFound) when there is none. The
    /// audit log keeps their entries. The account's involvements in case
    /// dossiers are not touched here: remove accounts with
    /// [`accounts::remove_user`](crate::accounts::remove_user), which ends
    /// them first.
    async fn delete_user(&self, username: &str) -> Result<()>;

    /// The number of users (0 means a fresh installation).
    async fn user_count(&self) -> Result<u64>;

    /// Stores a new session; [`Conflict`](crate::StoreError::Conflict) for
    /// an unknown user or an `id_hash` that exists.
    async fn create_session(&self, session: &SessionRecord) -> Result<()>;

    /// The session with this token hash, or `None`.
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>>;

    /// The session with this token hash and its user (`None` when the
    /// account no longer exists), read at once: every request asks this.
    async fn session_with_user(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<User>)>> {
        let Some(session) = self.session(id_hash).await? else {
            return Ok(None);
        };
        let user = self.user(&session.username).await?;
        Ok(Some((session, user)))
    }

    /// Sets a session's `last_seen_at`. An unknown session (signed out
    /// meanwhile by another request) is not an error: nothing happens.
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// Sets the hash of a user's secret calendar-feed address, replacing
    /// any earlier one; [`NotFound`](crate::StoreError::NotFound) for an
    /// unknown user.
    async fn set_feed_token(
        &self,
        username: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// The user whose feed has this token hash, or `None`.
    async fn feed_token_user(&self, token_hash: &str) -> Result<Option<String>>;

    /// Removes a user's feed address (it stops working).
    async fn delete_feed_token(&self, username: &str) -> Result<()>;

    /// Ends one session (sign-out). Ending an unknown one is not an error.
    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// Ends every session of one user (after a new password, on
    /// deactivation); returns how many there were.
    async fn delete_user_sessions(&self, username: &str) -> Result<u64>;

    /// Ends every session last seen before `before` (idle timeout);
    /// returns how many.
    async fn delete_sessions_idle_since(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The append-only audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one entry to the audit log: a single insert, cheap enough
    /// for one per page view. There is no way to change or delete entries.
    async fn audit(&self, entry: &AuditEntry) -> Result<()>;

    /// Audit entries matching `filter`, newest first (by `at`, then by the
    /// order written), at most `filter.limit`.
    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// Case dossiers (every version kept) and the calls of stap 2.
#[async_trait]
pub trait Cases: Send + Sync {
    /// Saves a new version of a case and returns its version number (1 for
    /// a new case). A case is identified by its student and `opened_on`:
    /// saving the same case again (a step change, a closure, a reopening)
    /// adds a version to the same row; a case with another `opened_on` is
    /// a new case of that student. A student has at most one open case:
    /// opening a second one while another is open is a
    /// [`Conflict`](crate::StoreError::Conflict), as is an unknown student.
    async fn save_case(&self, case: &Case, by: &str, at: DateTime<Utc>) -> Result<u32>;

    /// The student's latest case (the one opened last), open or closed.
    async fn case(&self, student: &StudentId) -> Result<Option<Case>>;

    /// Every case of the student (current versions), oldest first.
    async fn student_cases(&self, student: &StudentId) -> Result<Vec<Case>>;

    /// Current versions, sorted by student number: with `open_only` every
    /// open case (at most one per student), otherwise every student's
    /// latest case, open or closed.
    async fn cases(&self, open_only: bool) -> Result<Vec<Case>>;

    /// Every version of the student's latest case, oldest first (empty when
    /// the student has none).
    async fn case_versions(&self, student: &StudentId) -> Result<Vec<SavedVersion>>;

    /// Records a call about a student's absence (stap 2); returns its id.
    /// [`NotFound`](crate::StoreError::NotFound) for an unknown student.
    async fn add_call(&self, student: &StudentId, call: &aanwezig_domain::Call) -> Result<i64>;

    /// The calls about one student, oldest first.
    async fn student_calls(&self, student: &StudentId) -> Result<Vec<aanwezig_domain::Call>>;

    /// Every call about an absence that began on or after `from`, per
    /// student, oldest first: what the lists of calls due need.
    async fn calls_since(&self, from: NaiveDate)
        -> Result<Vec<(StudentId, aanwezig_domain::Call)>>;

    /// The student's latest case with its version number: what a dossier
    /// form carries back as the version it read.
    async fn case_with_version(&self, student: &StudentId) -> Result<Option<(Case, u32)>>;

    /// [`Cases::save_case`], checked and audited in one transaction: the
    /// case row (student, `opened_on`) must hold the version `check`
    /// expects ([`VersionCheck::New`]: no such row yet), otherwise nothing
    /// is written and the answer is
    /// [`StaleVersion`](crate::StoreError::StaleVersion) with the stored
    /// version. `audit` is written with the change, or neither is. Returns
    /// the new version number.
    async fn save_case_checked(
        &self,
        case: &Case,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32>;

    /// The students whose open case has the account `who` among its
    /// current partners ([`Case::involves`]), sorted, each once. Answered
    /// from an index of partners kept with every case write, not by reading
    /// every case: every request of a partner asks it.
    async fn students_involving(
        &self,
        who: &aanwezig_domain::case::PartnerIdentity<'_>,
    ) -> Result<Vec<StudentId>>;
}

/// DUO melding drafts (every version kept) and the afstemmingen with leerplicht.
#[async_trait]
pub trait Meldingen: Send + Sync {
    /// Saves a melding draft: a new one with `id: None` (returns its id),
    /// or a new version of draft `id` ([`NotFound`](crate::StoreError::NotFound)
    /// when there is none). One draft per signal (`source`) of a student:
    /// a second draft for the same signal is a
    /// [`Conflict`](crate::StoreError::Conflict). Every version is kept.
    async fn save_melding(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64>;

    /// One draft by id, or `None`.
    async fn melding(&self, id: i64) -> Result<Option<MeldingDraft>>;

    /// The drafts matching `filter`, by id (oldest first).
    async fn meldingen(&self, filter: &MeldingFilter) -> Result<Vec<(i64, MeldingDraft)>>;

    /// Every version of draft `id`, oldest first (empty for an unknown id).
    async fn melding_versions(&self, id: i64) -> Result<Vec<SavedVersion>>;

    /// Records "afgestemd met leerplicht: geen nieuwe melding" for one DUO
    /// signal of a student; returns its id.
    /// [`NotFound`](crate::StoreError::NotFound) for an unknown student,
    /// [`Conflict`](crate::StoreError::Conflict) when that signal already
    /// has one.
    async fn add_afstemming(&self, a: &aanwezig_domain::duo_work::Afstemming) -> Result<i64>;

    /// The afstemmingen, of one student or (`None`) of all, oldest first.
    async fn afstemmingen(
        &self,
        student: Option<&StudentId>,
    ) -> Result<Vec<(i64, aanwezig_domain::duo_work::Afstemming)>>;

    /// One draft with its version number, or `None`.
    async fn melding_with_version(&self, id: i64) -> Result<Option<(MeldingDraft, u32)>>;

    /// [`Meldingen::save_melding`], checked and audited in one transaction:
    /// draft `id` must hold the version `check` expects (a new draft,
    /// `id: None`, takes [`VersionCheck::New`] or [`VersionCheck::Any`]),
    /// otherwise nothing is written and the answer is
    /// [`StaleVersion`](crate::StoreError::StaleVersion). `audit` is
    /// written with the change, or neither is. Returns the draft's id and
    /// its new version number.
    async fn save_melding_checked(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(i64, u32)>;

    /// The students with a melding that went to DUO (any status but
    /// concept and ingetrokken), sorted, each once: what a
    /// leerplichtambtenaar may see besides their cases.
    async fn students_with_sent_meldingen(&self) -> Result<Vec<StudentId>>;
}

/// Retention: finding and purging the data of students who left.
#[async_trait]
pub trait Retention: Send + Sync {
    /// Students who left before `date` (`left_on < date`), sorted by
    /// student number.
    async fn students_left_before(&self, date: NaiveDate) -> Result<Vec<StoredStudent>>;

    /// Deletes everything held on one student, in one transaction: the
    /// registrations and their history, the cases and melding drafts with
    /// all their versions, and the student. The audit log is append-only
    /// and keeps its entries, unlinked: the student number is removed and
    /// the detail replaced by a fixed text, so who did what when stays. Change sets and the imports log
    /// stay too: they name no student. An unknown student is
    /// [`NotFound`](crate::StoreError::NotFound).
    async fn purge_student(&self, student: &StudentId) -> Result<PurgeCounts>;
}

/// The change feed: every committed change of stored data (not sessions
/// and audit entries) gets a number from one database-wide sequence and a
/// row saying what changed, in the same transaction as the change. Every
/// app server on the database follows it to keep its in-memory school
/// current, whichever server made the change.
///
/// What a write adds (the conformance suite checks it): one row per
/// student whose data changed (a register of a class: one per student
/// with a changed lesson; a case, melding, call, afstemming or purge: its
/// student; saving one student: that student); one row without a student
/// for an import (of registrations or a whole bundle), for saving several
/// students at once, for a settings document and for users and feed
/// tokens. A write that changes nothing (identical registrations or
/// students) and a refused write add nothing. Numbers only grow and are
/// visible in commit order: a follower that has read up to `n` never
/// later sees a change numbered `n` or less.
#[async_trait]
pub trait Changes: Send + Sync {
    /// The number of the latest committed change, `0` when there is none.
    async fn last_change(&self) -> Result<i64>;

    /// The changes numbered after `after`, oldest first, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>>;

    /// Returns when a change numbered after `after` may have been
    /// committed (by any process), or when `timeout` has passed, whichever
    /// comes first. PostgreSQL wakes on `LISTEN/NOTIFY`; SQLite polls.
    /// Spurious wake-ups are allowed: the caller reads
    /// [`Changes::changes_since`] after it.
    async fn wait_for_change(&self, after: i64, timeout: std::time::Duration) -> Result<()>;
}

/// Everything aanwezig keeps, behind one interface: every focused trait.
///
/// Object safe (`#[async_trait]`), so the binary holds an `Arc<dyn Store>`
/// and picks the backend from the database URL at run time. Backends:
/// `aanwezig-storage-sqlite` and `aanwezig-storage-postgres`; each passes
/// the shared conformance suite (`testsuite`, cargo feature `testsuite`).
///
/// No method reads a clock: times are parameters (`at`), so that tests and
/// replays control them.
#[async_trait]
pub trait Store:
    Students
    + Registrations
    + Imports
    + Documents
    + Accounts
    + AuditLog
    + Cases
    + Meldingen
    + Retention
    + Changes
{
    /// How many committed changes of stored data this store (this
    /// process) has made so far (any write but sign-in sessions and audit
    /// entries). It only grows: a cache of what was read from the store is
    /// good while it is unchanged, when it was read before the data.
    fn write_count(&self) -> u64;

    /// Waits for running work and closes every connection. Later calls fail.
    async fn close(&self);
}
