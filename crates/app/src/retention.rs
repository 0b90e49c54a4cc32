//! The retention rule applied: attendance and case data are kept five
//! years after a student leaves, then removed (product.md). Shared by
//! `aanwezig purge` (by hand, with a dry run) and the web server's daily
//! job. The rule itself (who is due, what one purge removes, its audit
//! entry per student) is `aanwezig_storage::retention`; this module decides
//! who may run it and counts what a dry run would remove.
//!
//! Removing the school's old data is part of managing the school's
//! settings (the retention term is one): [`Permission::ManageSettings`],
//! the beheerder's, which the command line and the server's job hold.

use aanwezig_storage::{MeldingFilter, Store, StoredStudent};
use chrono::{DateTime, NaiveDate, Utc};

pub use aanwezig_storage::retention::{cutoff, PurgedStudent, YEARS};

use crate::{Actor, AppError, Permission};

/// The name the server's daily purge writes in the audit log.
pub const SYSTEM_USER: &str = "systeem";

/// The server's own actor for its daily jobs.
pub fn system() -> Actor {
    Actor::command_line(SYSTEM_USER)
}

/// A student due for purging, and what purging would remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub student: StoredStudent,
    pub registrations: u64,
    /// Earlier versions of registrations.
    pub history: u64,
    pub has_case: bool,
    pub meldingen: u64,
}

/// The students due for purging on `today` with a term of `years`, and
/// what purging each would remove, counted without removing anything.
pub async fn due(
    store: &dyn Store,
    actor: &Actor,
    today: NaiveDate,
    years: u32,
) -> Result<Vec<Due>, AppError> {
    actor.require(Permission::ManageSettings)?;
    let mut out = Vec::new();
    for s in aanwezig_storage::retention::expired(store, today, years).await? {
        let id = &s.student.id;
        let registrations = store.student_registrations(id).await?.len() as u64;
        let history = store.registration_history(id).await?.len() as u64;
        let has_case = store.case(id).await?.is_some();
        let meldingen = store
            .meldingen(&MeldingFilter {
                student: Some(id.clone()),
                ..Default::default()
            })
            .await?
            .len() as u64;
        out.push(Due {
            student: s,
            registrations,
            history,
            has_case,
            meldingen,
        });
    }
    Ok(out)
}

/// Purges every student due on `today` with a term of `years`, one
/// transaction and one audit entry (by `actor`) each. Stops at the first
/// error; the students purged before it stay purged (and audited).
pub async fn purge(
    store: &dyn Store,
    actor: &Actor,
    today: NaiveDate,
    years: u32,
    now: DateTime<Utc>,
) -> Result<Vec<PurgedStudent>, AppError> {
    actor.require(Permission::ManageSettings)?;
    Ok(
        aanwezig_storage::retention::purge_expired(store, today, years, &actor.username, now)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::Role;

    use super::*;
    use crate::testing::{audit_is_empty, now, store, ymd};

    #[tokio::test]
    async fn only_the_beheerder_and_the_system_purge() {
        let store = store().await;
        let today = ymd(2025, 11, 14);
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Beheerder) {
            let a = Actor::new("x", role, vec!["2B".into()]);
            assert!(
                matches!(
                    purge(&store, &a, today, YEARS, now()).await,
                    Err(AppError::Forbidden)
                ),
                "{role:?}"
            );
            assert!(matches!(
                due(&store, &a, today, YEARS).await,
                Err(AppError::Forbidden)
            ));
        }
        assert!(purge(&store, &system(), today, YEARS, now())
            .await
            .unwrap()
            .is_empty());
        assert!(due(&store, &Actor::command_line("cli"), today, YEARS)
            .await
            .unwrap()
            .is_empty());
        assert!(audit_is_empty(&store).await);
    }
}
