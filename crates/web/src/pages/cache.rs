//! What pages read from the store on every view, kept for the next views
//! while nothing changed: every account, each user's tasks (Mijn taken
//! and the Weekoverzicht's counts), and each student's latest case step.
//!
//! A value holds for one state of the school: [`AppState::changes`]
//! (every change made through the app, and every committed write of the
//! store itself, also one made beside the app's pages), the live school's
//! generation (which also tells apart the schools of several apps in one
//! process) and the date; and for at most a minute, for changes made by
//! another process (the command line on the same database). Reading many
//! rows through the database's worker thread costs about a microsecond of
//! thread hand-over per row; under load that is most of what a page costs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aanwezig_storage::User;
use chrono::{DateTime, NaiveDate, Utc};

use super::tasks::{user_tasks, TaskOwner, UserTask};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::state::AppState;

/// How long a value holds at most.
const FOR: chrono::Duration = chrono::Duration::seconds(60);

/// Values kept per state; more than this start afresh.
const MAX: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    changes: u64,
    generation: u64,
    today: NaiveDate,
}

/// The key of the school's state now. Read before the data, so that a
/// change racing with a read leaves a stale key behind, never stale data.
fn key(state: &AppState) -> Result<Key, PageError> {
    Ok(Key {
        changes: state.changes(),
        generation: state.read()?.generation,
        today: state.clock.today(),
    })
}

struct Slot<T> {
    key: Key,
    at: DateTime<Utc>,
    values: HashMap<String, Arc<T>>,
}

/// One cache of values by name.
pub struct Cache<T>(Mutex<Option<Slot<T>>>);

/// The state of the school a value was computed for ([`Cache::lookup`]).
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    key: Key,
    now: DateTime<Utc>,
}

impl<T> Default for Cache<T> {
    fn default() -> Cache<T> {
        Cache::new()
    }
}

impl<T> Cache<T> {
    pub const fn new() -> Cache<T> {
        Cache(Mutex::new(None))
    }

    /// The value named `name` for the school's state now, if kept; and
    /// the stamp to [`Cache::keep`] a value computed now under. Call it
    /// before reading the data the value is made of.
    pub fn lookup(
        &self,
        state: &AppState,
        name: &str,
    ) -> Result<(Option<Arc<T>>, Stamp), PageError> {
        let stamp = Stamp {
            key: key(state)?,
            now: state.clock.now(),
        };
        Ok((self.get(stamp.key, stamp.now, name), stamp))
    }

    /// Keeps `value` under `name` for the state `stamp` was taken in.
    pub fn keep(&self, stamp: Stamp, name: &str, value: &Arc<T>) {
        self.put(stamp.key, stamp.now, name, value);
    }

    fn get(&self, key: Key, now: DateTime<Utc>, name: &str) -> Option<Arc<T>> {
        let slot = self.0.lock().ok()?;
        let s = slot.as_ref()?;
        let age = now - s.at;
        if s.key != key || age < chrono::Duration::zero() || age >= FOR {
            return None;
        }
        s.values.get(name).cloned()
    }

    fn put(&self, key: Key, now: DateTime<Utc>, name: &str, value: &Arc<T>) {
        // A poisoned cache only costs speed.
        let Ok(mut slot) = self.0.lock() else {
            return;
        };
        let fresh = slot
            .as_ref()
            .is_none_or(|s| s.key != key || now - s.at >= FOR || s.values.len() >= MAX);
        if fresh {
            *slot = Some(Slot {
                key,
                at: now,
                values: HashMap::new(),
            });
        }
        if let Some(s) = slot.as_mut() {
            s.values.insert(name.to_owned(), Arc::clone(value));
        }
    }
}

/// Every account, as [`aanwezig_storage::Store::users`] gives them.
pub async fn users(state: &AppState) -> Result<Arc<Vec<User>>, PageError> {
    static CACHE: Cache<Vec<User>> = Cache::new();
    let (key, now) = (key(state)?, state.clock.now());
    if let Some(users) = CACHE.get(key, now, "") {
        return Ok(users);
    }
    let users = Arc::new(state.store.users().await?);
    CACHE.put(key, now, "", &users);
    Ok(users)
}

/// Each student's latest case as a page marks it: open or closed, and
/// its step ([`aanwezig_storage::Store::cases`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseMark {
    pub open: bool,
    pub step: aanwezig_domain::CaseStep,
}

/// The [`CaseMark`] of every student with a case.
pub async fn case_marks(
    state: &AppState,
) -> Result<Arc<HashMap<aanwezig_domain::StudentId, CaseMark>>, PageError> {
    static CACHE: Cache<HashMap<aanwezig_domain::StudentId, CaseMark>> = Cache::new();
    let (key, now) = (key(state)?, state.clock.now());
    if let Some(marks) = CACHE.get(key, now, "") {
        return Ok(marks);
    }
    let marks = Arc::new(
        state
            .store
            .cases(false)
            .await?
            .into_iter()
            .map(|c| {
                let mark = CaseMark {
                    open: c.is_open(),
                    step: c.step,
                };
                (c.student, mark)
            })
            .collect(),
    );
    CACHE.put(key, now, "", &marks);
    Ok(marks)
}

/// The signed-in user's tasks, as [`user_tasks`] gives them.
pub async fn tasks(state: &AppState, user: &CurrentUser) -> Result<Arc<Vec<UserTask>>, PageError> {
    static CACHE: Cache<Vec<UserTask>> = Cache::new();
    let (key, now) = (key(state)?, state.clock.now());
    let name = &user.user.username;
    if let Some(tasks) = CACHE.get(key, now, name) {
        return Ok(tasks);
    }
    let tasks = Arc::new(user_tasks(state, TaskOwner::of(user), key.today).await?);
    CACHE.put(key, now, name, &tasks);
    Ok(tasks)
}
