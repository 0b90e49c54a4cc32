//! Removing an account, in one place for the CLI (`aanwezig user remove`)
//! and the web app's Gebruikers page.
//!
//! Partner access to a case dossier follows the account id
//! ([`Involvement::is_of`]), so a later account with the same username
//! inherits nothing either way. Removing an account still ends every
//! current involvement of it, in every case of every student: the dossier
//! then says, like after any release, from when the partner no longer took
//! part ("… niet meer betrokken" in its trail), instead of listing someone
//! who can no longer sign in as a current partner. Each changed case is
//! saved as a new version and audited ([`AuditAction::Change`]) like a
//! release on the dossier page.
//!
//! The cases are released before the account is deleted, so that a failure
//! half-way leaves an account that still exists with fewer involvements,
//! and running the removal again finishes it. The store has no
//! transaction across cases and users: a caller that serialises its own
//! case changes (the web app) holds that lock around the call.
//!
//! [`Involvement::is_of`]: aanwezig_domain::case::Involvement::is_of

use aanwezig_domain::StudentId;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Result, StoreError};
use crate::model::{AuditAction, AuditEntry, User};
use crate::Store;

/// What [`remove_user`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedUser {
    /// The account as it was.
    pub user: User,
    /// The students in whose cases the account's involvement was ended,
    /// sorted, each once.
    pub released: Vec<StudentId>,
}

/// The audit detail of an involvement ended by removing the account.
fn release_detail(username: &str) -> String {
    format!("dossier: {username} niet meer betrokken (account verwijderd)")
}

/// Removes the account `username` (by `by`, at `at`, on the school date
/// `today`): ends every current involvement of the account in every case
/// (`until` = `today`; a new case version and an audit entry per case),
/// then deletes the account and its sessions. An unknown username is
/// [`NotFound`](StoreError::NotFound) and changes nothing. The caller
/// writes its own audit entry for the removal itself.
pub async fn remove_user(
    store: &dyn Store,
    username: &str,
    by: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Result<RemovedUser> {
    let user = store
        .user(username)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {username}")))?;
    let released = release_everywhere(store, &user, by, today, at).await?;
    store.delete_user(&user.username).await?;
    Ok(RemovedUser { user, released })
}

/// Ends every current involvement of `user`'s account in every stored
/// case; returns the students whose case changed.
async fn release_everywhere(
    store: &dyn Store,
    user: &User,
    by: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Result<Vec<StudentId>> {
    let who = user.identity();
    let mut released = Vec::new();
    // Every student with a case (their latest one), then all of that
    // student's cases: an involvement in an earlier, closed case is ended
    // too, so that no stored case still lists the account as current.
    let students: Vec<StudentId> = store
        .cases(false)
        .await?
        .into_iter()
        .map(|c| c.student)
        .collect();
    for student in students {
        let mut changed = false;
        for mut case in store.student_cases(&student).await? {
            if case.release_partner(&who, today) == 0 {
                continue;
            }
            store.save_case(&case, by, at).await?;
            store
                .audit(&AuditEntry {
                    at,
                    username: by.to_owned(),
                    action: AuditAction::Change,
                    student: Some(student.clone()),
                    detail: release_detail(&user.username),
                })
                .await?;
            changed = true;
        }
        if changed {
            released.push(student);
        }
    }
    released.sort();
    released.dedup();
    Ok(released)
}
