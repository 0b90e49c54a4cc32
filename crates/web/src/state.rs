//! The state every handler shares.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use aanwezig_storage::Store;

use crate::auth::LoginLimiter;
use crate::clock::Clock;
use crate::error::PageError;
use crate::live::Live;

/// Settings of a running app.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Sign a session out after this long without a request.
    pub idle_timeout: chrono::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            idle_timeout: chrono::Duration::minutes(30),
        }
    }
}

/// Cheap to clone: everything is behind `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub live: Arc<RwLock<Live>>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub limiter: Arc<LoginLimiter>,
    /// Uploaded imports waiting for confirmation, running or finished.
    pub imports: Arc<crate::pages::import::ImportJobs>,
    /// Counts the signed-in changes this app made (every state-changing
    /// request that passed the CSRF check, and every reload), so that
    /// pages may cache what they derive from the store: see
    /// [`AppState::changes`].
    changes: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Loads the school from the store and evaluates it as of the clock's today.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<AppState, PageError> {
        let live = Live::load(store.as_ref(), clock.today()).await?;
        Ok(AppState {
            store,
            live: Arc::new(RwLock::new(live)),
            clock,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
            imports: Arc::default(),
            changes: Arc::default(),
        })
    }

    /// The number of changes so far (see the field's docs).
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Notes a change.
    pub fn changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Reads the live school, first moving it to today if the date changed.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, Live>, PageError> {
        let today = self.clock.today();
        let stale = self.live.read().map_err(|_| poisoned())?.today != today;
        if stale {
            self.write()?.set_today(today);
        }
        self.live.read().map_err(|_| poisoned())
    }

    /// Writes the live school.
    pub fn write(&self) -> Result<RwLockWriteGuard<'_, Live>, PageError> {
        self.live.write().map_err(|_| poisoned())
    }

    /// Reloads everything from the store (after an import or a settings change).
    pub async fn reload(&self) -> Result<(), PageError> {
        let live = Live::load(self.store.as_ref(), self.clock.today()).await?;
        *self.write()? = live;
        self.changed();
        Ok(())
    }
}

fn poisoned() -> PageError {
    PageError::Internal("gedeelde toestand is beschadigd".into())
}
