//! The change feed's listener: one background task per store that LISTENs
//! on `aanwezig_changes` and feeds the highest change number it has heard
//! of into a [`watch`] channel, which [`Changes::wait_for_change`] waits
//! on.
//!
//! When the listening connection drops, the task reconnects with a pause
//! between attempts; meanwhile waiters poll the `change_feed` table. Once it
//! listens again, it reads the latest number (a catch-up: notifications
//! sent while no one listened are lost, the rows are not) before it waits
//! for the next notification.
//!
//! [`Changes::wait_for_change`]: aanwezig_storage::Changes::wait_for_change

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{Db, Result};

/// The channel `record_change` (migration 0002) notifies on.
pub(crate) const CHANNEL: &str = "aanwezig_changes";

/// How often waiters read the table while the listener is down.
const POLL: Duration = Duration::from_millis(250);

/// The pause between attempts to listen again.
const RECONNECT: Duration = Duration::from_millis(500);

/// The highest committed change number this store knows of, and how it
/// learns of new ones.
#[derive(Debug)]
pub(crate) struct Feed {
    latest: watch::Sender<i64>,
    /// Whether the listener is connected; waiters poll while it is not.
    listening: AtomicBool,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The number of the latest committed change, 0 when there is none.
pub(crate) async fn last_change(pool: &PgPool) -> Result<i64> {
    sqlx::query_scalar("SELECT coalesce(max(number), 0) FROM change_feed")
        .fetch_one(pool)
        .await
        .db()
}

/// A listener on [`CHANNEL`].
async fn listen(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.db()?;
    listener.listen(CHANNEL).await.db()?;
    Ok(listener)
}

impl Feed {
    /// Starts listening (before reading the latest number, so that no
    /// change falls between the two) and spawns the task that follows.
    pub(crate) async fn start(pool: &PgPool) -> Result<Arc<Feed>> {
        let listener = listen(pool).await?;
        let latest = last_change(pool).await?;
        let feed = Arc::new(Feed {
            latest: watch::Sender::new(latest),
            listening: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(follow(Arc::downgrade(&feed), pool.clone(), listener));
        if let Ok(mut slot) = feed.task.lock() {
            *slot = Some(task);
        }
        Ok(feed)
    }

    /// Notes that change `n` was committed (heard, read, or made here).
    pub(crate) fn bump(&self, n: i64) {
        self.latest.send_if_modified(|v| {
            if n > *v {
                *v = n;
                true
            } else {
                false
            }
        });
    }

    /// Wakes the waiters without a new number: they look at `listening`
    /// again.
    fn nudge(&self) {
        self.latest.send_modify(|_| {});
    }

    fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Release);
        self.nudge();
    }

    /// See [`Changes::wait_for_change`](aanwezig_storage::Changes::wait_for_change).
    pub(crate) async fn wait(&self, pool: &PgPool, after: i64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut rx = self.latest.subscribe();
        loop {
            if *rx.borrow_and_update() > after {
                return Ok(());
            }
            let wake = if self.listening.load(Ordering::Acquire) {
                deadline
            } else {
                // No notifications now: read the table, then look again soon.
                let n = last_change(pool).await?;
                self.bump(n);
                if n > after {
                    return Ok(());
                }
                deadline.min(Instant::now() + POLL)
            };
            if Instant::now() >= deadline {
                return Ok(());
            }
            match tokio::time::timeout_at(wake, rx.changed()).await {
                // The sender lives as long as `self`; a closed channel
                // means the store is going away: a spurious wake-up.
                Ok(Err(_)) => return Ok(()),
                Ok(Ok(())) => {}
                Err(_) if wake >= deadline => return Ok(()),
                Err(_) => {}
            }
        }
    }

    /// Stops the task and waits until it has let go of its connection.
    pub(crate) async fn stop(&self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Ok(mut task) = self.task.lock() {
            if let Some(task) = task.take() {
                task.abort();
            }
        }
    }
}

/// The listener task: hears notifications until the store goes away.
async fn follow(feed: Weak<Feed>, pool: PgPool, mut listener: PgListener) {
    loop {
        let heard = listener.try_recv().await;
        let Some(f) = feed.upgrade() else {
            return;
        };
        match heard {
            Ok(Some(note)) => match note.payload().parse::<i64>() {
                Ok(n) => f.bump(n),
                Err(_) => tracing::warn!(payload = note.payload(), "change feed: odd payload"),
            },
            Ok(None) | Err(_) => {
                if let Err(e) = &heard {
                    tracing::warn!(error = %e, "change feed: listener failed; polling");
                } else {
                    tracing::warn!("change feed: listener connection lost; polling");
                }
                f.set_listening(false);
                drop(f);
                // Listen again, then catch up on what was committed while
                // no one listened (in that order, so nothing falls between).
                let caught_up;
                (listener, caught_up) = loop {
                    tokio::time::sleep(RECONNECT).await;
                    if feed.strong_count() == 0 {
                        return;
                    }
                    let again = async {
                        let l = listen(&pool).await?;
                        let n = last_change(&pool).await?;
                        Ok::<_, aanwezig_storage::StoreError>((l, n))
                    };
                    match again.await {
                        Ok(done) => break done,
                        Err(e) => tracing::debug!(error = %e, "change feed: not listening yet"),
                    }
                };
                let Some(f) = feed.upgrade() else {
                    return;
                };
                f.bump(caught_up);
                f.set_listening(true);
                tracing::info!("change feed: listening again");
            }
        }
    }
}
