//! Following the store's change feed, so that the in-memory school
//! ([`Live`](crate::live::Live)) shows every change in the database,
//! whichever app server (or command) made it.
//!
//! One background task per [`AppState`](crate::state::AppState), started
//! when the state is built and ended when the last clone of it is dropped:
//! it waits with [`Changes::wait_for_change`], reads
//! [`Changes::changes_since`] its position and applies them:
//!
//! - registrations of one student: that student's lessons are read again
//!   and the student re-evaluated;
//! - a case: that student's case facts (the 3a conversations);
//! - a call: that student's calls;
//! - students, a purge, an import or any other change of many students,
//!   and a new calendar, policy or timetable: the whole school is loaded
//!   again;
//! - everything else (meldingen, afstemmingen, accounts, the school's and
//!   mail settings): nothing in the live school, but the pages' caches
//!   (keyed on [`AppState::changes`](crate::state::AppState::changes)) are
//!   told.
//!
//! The app still applies its own changes within the request (a user sees
//! their change on the next page); the feed brings them once more, and
//! applying a stored state twice changes nothing. The position starts at
//! the feed's last number read *before* the school was loaded, so no
//! change between loading and following is missed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aanwezig_storage::{Change, ChangeKind, Store};

use crate::error::PageError;
use crate::live::{EngineDocuments, Live};

/// How long one wait for a change lasts before it starts again.
const WAIT: Duration = Duration::from_secs(30);

/// After a failure (the database away for a moment), wait this long.
const BACKOFF: Duration = Duration::from_secs(1);

/// Changes read at once.
const BATCH: u32 = 1000;

/// What the follower shares with the app state: the position of the
/// loaded school in the feed, and one lock so that a whole reload and the
/// follower's own application never interleave.
#[derive(Default)]
pub struct FeedPosition {
    /// The feed's last number the whole live school was loaded after: every
    /// change up to it is in the school.
    loaded: AtomicI64,
    /// Held while the live school is reloaded or a batch of changes is
    /// applied.
    pub(crate) apply: tokio::sync::Mutex<()>,
}

impl FeedPosition {
    /// A position at `loaded` (read before the school was loaded).
    pub fn at(loaded: i64) -> FeedPosition {
        FeedPosition {
            loaded: AtomicI64::new(loaded),
            apply: tokio::sync::Mutex::default(),
        }
    }

    /// Every change up to `n` is in the loaded school.
    pub(crate) fn loaded_upto(&self, n: i64) {
        self.loaded.fetch_max(n, Ordering::AcqRel);
    }

    fn loaded(&self) -> i64 {
        self.loaded.load(Ordering::Acquire)
    }
}

/// What the task holds: the shared parts of the app state, not the state
/// itself (whose last clone ends the task).
pub(crate) struct Follower {
    pub store: Arc<dyn Store>,
    pub live: Arc<std::sync::RwLock<Live>>,
    pub clock: Arc<dyn crate::clock::Clock>,
    pub changes: Arc<std::sync::atomic::AtomicU64>,
    pub position: Arc<FeedPosition>,
}

/// Ends the follower's task when dropped (with the last clone of the app
/// state that holds it).
pub(crate) struct FollowTask(tokio::task::JoinHandle<()>);

impl Drop for FollowTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Follower {
    /// Starts following from the state's loaded position.
    pub(crate) fn spawn(self) -> FollowTask {
        FollowTask(tokio::spawn(self.run()))
    }

    async fn run(self) {
        let mut seen = self.position.loaded();
        loop {
            match self.step(seen).await {
                Ok(next) => seen = next,
                Err(e) => {
                    tracing::warn!(error = %e, "following the change feed failed; trying again");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }

    /// Waits for changes after `seen` and applies them; the new position.
    async fn step(&self, seen: i64) -> Result<i64, PageError> {
        self.store.wait_for_change(seen, WAIT).await?;
        let changes = self.store.changes_since(seen, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.number) else {
            return Ok(seen);
        };
        let _apply = self.position.apply.lock().await;
        // A reload (by a request, or below) already has everything up to
        // its position.
        let loaded = self.position.loaded();
        let changes: Vec<&Change> = changes.iter().filter(|c| c.number > loaded).collect();
        if !changes.is_empty() {
            self.apply(&changes).await?;
        }
        self.bump();
        Ok(last.max(loaded))
    }

    /// Applies a batch of changes to the live school.
    async fn apply(&self, changes: &[&Change]) -> Result<(), PageError> {
        let mut registrations = BTreeSet::new();
        let mut cases = BTreeSet::new();
        let mut calls = BTreeSet::new();
        let mut documents = false;
        let mut whole = false;
        for c in changes {
            match (c.kind, &c.student) {
                (ChangeKind::Registrations, Some(s)) => {
                    registrations.insert(s.clone());
                }
                (ChangeKind::Case, Some(s)) => {
                    cases.insert(s.clone());
                }
                (ChangeKind::Call, Some(s)) => {
                    calls.insert(s.clone());
                }
                (ChangeKind::Document, _) => documents = true,
                (ChangeKind::Melding | ChangeKind::Afstemming | ChangeKind::Accounts, _) => {}
                // Students, a purge, an import, a change of many.
                _ => whole = true,
            }
        }
        if documents && !whole {
            let loaded = self.live.read().map_err(|_| poisoned())?.documents;
            whole = EngineDocuments::stored(self.store.as_ref()).await? != loaded;
        }
        if whole {
            return self.reload().await;
        }
        for student in &registrations {
            let records = match self.store.student_registrations(student).await {
                Ok(r) => r,
                // Purged meanwhile: its own change reloads the school.
                Err(aanwezig_storage::StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let fits = self
                .live
                .write()
                .map_err(|_| poisoned())?
                .set_student_registrations(student, &records);
            if !fits {
                return self.reload().await;
            }
        }
        for student in &cases {
            if let Some(case) = self.store.case(student).await? {
                self.live
                    .write()
                    .map_err(|_| poisoned())?
                    .set_case_context(&case);
            }
        }
        for student in &calls {
            let stored = self.store.student_calls(student).await?;
            self.live
                .write()
                .map_err(|_| poisoned())?
                .set_student_calls(student, stored);
        }
        Ok(())
    }

    /// Loads the whole school again (the apply lock is held).
    async fn reload(&self) -> Result<(), PageError> {
        let upto = self.store.last_change().await?;
        let live = Live::load(self.store.as_ref(), self.clock.today()).await?;
        *self.live.write().map_err(|_| poisoned())? = live;
        self.position.loaded_upto(upto);
        Ok(())
    }

    /// Tells the pages' caches that the store changed.
    fn bump(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }
}

fn poisoned() -> PageError {
    PageError::Internal("gedeelde toestand is beschadigd".into())
}
