//! The web app's only source of time. Handlers never read a clock
//! themselves: they ask the [`Clock`] in the state, which tests replace.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

/// Where "now" and "today" come from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// The school's current date.
    fn today(&self) -> NaiveDate;
}

/// The real clock, with an optional fixed "today" (`aanwezig serve --today`).
#[derive(Debug, Default)]
pub struct SystemClock {
    pub today: Option<NaiveDate>,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the one real clock of the web app"
        )]
        Utc::now()
    }

    fn today(&self) -> NaiveDate {
        #[expect(
            clippy::disallowed_methods,
            reason = "the one real clock of the web app"
        )]
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }
}

/// A clock that stands still until moved: for tests.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<DateTime<Utc>>,
    today: Mutex<NaiveDate>,
}

impl FixedClock {
    /// A clock at `now` whose school date is `today`.
    pub fn new(now: DateTime<Utc>, today: NaiveDate) -> FixedClock {
        FixedClock {
            now: Mutex::new(now),
            today: Mutex::new(today),
        }
    }

    /// Sets the school date (the next request re-evaluates as of it).
    pub fn set_today(&self, today: NaiveDate) {
        if let Ok(mut t) = self.today.lock() {
            *t = today;
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut n) = self.now.lock() {
            *n += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_default()
    }

    fn today(&self) -> NaiveDate {
        self.today.lock().map(|t| *t).unwrap_or_default()
    }
}
