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
//! and running the removal again finishes it. No lock is needed around it:
//! each case is saved with a checked, audited write
//! ([`Cases::save_case_checked`](crate::store::Cases::save_case_checked))
//! from the version it was read at, and a case someone else saved in
//! between is read again and released again, so no change made meanwhile
//! (by this process or another server on the database) is lost.
//!
//! [`Involvement::is_of`]: aanwezig_domain::case::Involvement::is_of

use aanwezig_domain::StudentId;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Result, StoreError};
use crate::model::{AuditAction, AuditEntry, User, VersionCheck};
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

/// How often one student's cases are read again when someone else saved
/// one of them meanwhile, before [`remove_user`] gives up with
/// [`StaleVersion`](StoreError::StaleVersion) (running it again finishes).
const RETRIES: usize = 20;

/// Ends every current involvement of `user`'s account in every stored
/// case; returns the students whose case changed.
async fn release_everywhere(
    store: &dyn Store,
    user: &User,
    by: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Result<Vec<StudentId>> {
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
        let mut attempt = 0;
        loop {
            match release_in_cases_of(store, user, &student, by, today, at).await {
                Ok(true) => {
                    released.push(student);
                    break;
                }
                Ok(false) => break,
                Err(StoreError::StaleVersion { .. }) if attempt + 1 < RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }
    released.sort();
    released.dedup();
    Ok(released)
}

/// Ends `user`'s involvements in every case of one student, each case
/// saved checked and audited; whether any case changed. A case saved by
/// someone else since it was read is
/// [`StaleVersion`](StoreError::StaleVersion): the caller reads again.
async fn release_in_cases_of(
    store: &dyn Store,
    user: &User,
    student: &StudentId,
    by: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Result<bool> {
    let who = user.identity();
    let entry = || AuditEntry {
        at,
        username: by.to_owned(),
        action: AuditAction::Change,
        student: Some(student.clone()),
        detail: release_detail(&user.username),
    };
    // The latest case, with its version, is the only one anyone changes
    // (opening a newer one closes it first, and changes it).
    let Some((latest, version)) = store.case_with_version(student).await? else {
        return Ok(false);
    };
    let all = store.student_cases(student).await?;
    // A case opened after the latest was read: start again.
    if all.last().map(|c| c.opened_on) != Some(latest.opened_on) {
        return Err(StoreError::StaleVersion {
            expected: VersionCheck::Version(version),
            stored: None,
        });
    }
    let mut changed = false;
    // The latest first: when it is stale, nothing of this student is
    // written yet and the caller simply reads again.
    let mut latest = latest;
    if latest.release_partner(&who, today) > 0 {
        store
            .save_case_checked(&latest, VersionCheck::Version(version), by, at, &entry())
            .await?;
        changed = true;
    }
    // Earlier cases are closed and no page changes them; only another
    // removal does, which writes the same release (last write wins).
    for mut case in all.into_iter().filter(|c| c.opened_on != latest.opened_on) {
        if case.release_partner(&who, today) > 0 {
            store
                .save_case_checked(&case, VersionCheck::Any, by, at, &entry())
                .await?;
            changed = true;
        }
    }
    Ok(changed)
}
