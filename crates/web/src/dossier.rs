//! Shared rules of the case dossier for every page that reads or changes
//! a case: who may see and change it, loading it in scope (with the read
//! audited and the case redacted for the role), and saving a change (store,
//! audit, and the engine's view of the case in the live school).
//!
//! Who may do what (product.md):
//! - verzuimcoördinator and ondersteuningscoördinator: every case, read and
//!   change, including referrals, decisions and partners; the meldcode part
//!   only for the ondersteuningscoördinator.
//! - mentor: the cases of the own classes' students, read and change
//!   (opening, steps, checklist, contact moments, agreements,
//!   interventions); referrals, decisions and partners read-only.
//! - external partners (leerplichtambtenaar, jeugdarts, ketenpartner): only
//!   the open cases their account is brought into ([`partner_may_read`]: on
//!   every page that shows a case, the list included; by account id, never
//!   by username alone), read only, redacted
//!   (`Case::redacted_for`) and limited to the period they take part in
//!   (`seen_by`); the jeugdarts adds confidential notes only
//!   jeugdartsen on the case read.
//! - beheerder: no case content.
//!
//! Every change goes through [`update`] (or [`add_confidential_note`]): it
//! reads the case with its version and saves it checked against that
//! version, with its audit entry, in one transaction of the store
//! ([`Cases::save_case_checked`]). Two people (or two app servers) saving
//! at once cannot lose a change: the second save is refused with
//! [`PageError::Stale`] (409, "someone else saved this dossier in the
//! meantime"), and nothing needs a lock in this process.
//!
//! [`Cases::save_case_checked`]: aanwezig_storage::Cases::save_case_checked

use aanwezig_app::permission::{self, Permission, StudentFacts};
use aanwezig_domain::case::Actor;
use aanwezig_domain::{Case, Student};
use aanwezig_storage::{AuditAction, AuditEntry, VersionCheck};

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::state::AppState;

/// The signed-in user as the case records who did something.
pub fn actor(user: &CurrentUser) -> Actor {
    Actor::new(user.user.username.clone(), user.role())
}

/// The student with number `id` if the user may see them; otherwise
/// `NotFound`, exactly like a student that does not exist (nothing leaks).
/// Roles that read no cases get `Forbidden`.
pub fn student_in_scope(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Student, PageError> {
    user.require_may(Permission::ReadCase)?;
    let live = state.read()?;
    let i = live.position(id).ok_or(PageError::NotFound)?;
    let student = live.school.students()[i].clone();
    if !user.may_for(Permission::ReadStudent, &student) {
        return Err(PageError::NotFound);
    }
    Ok(student)
}

/// The student's latest case (open or closed), redacted for the user's
/// role, with the read audited (`what`: a few words on what was shown).
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    what: &str,
) -> Result<(Student, Option<Case>), PageError> {
    let (student, case) = load_versioned(state, user, id, what).await?;
    Ok((student, case.map(|(c, _)| c)))
}

/// [`load`] with the version of the case read, for the forms of a page
/// to carry back (`versie`), so that a change made from it is refused
/// when someone saved the case in the meantime ([`update`]).
pub async fn load_versioned(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    what: &str,
) -> Result<(Student, Option<(Case, u32)>), PageError> {
    let student = student_in_scope(state, user, id)?;
    let mut case = state.store.case_with_version(&student.id).await?;
    if !may_read_case(user, &student, case.as_ref().map(|(c, _)| c)) {
        return Err(PageError::NotFound);
    }
    user.audit(state, AuditAction::Read, Some(&student.id), what)
        .await?;
    if let Some((c, _)) = case.as_mut() {
        *c = seen_by(user, c);
    }
    Ok((student, case))
}

/// The case as `user` may see it: redacted for the role
/// ([`Case::redacted_for`]) and, for an external partner, limited to the
/// period they take part in ([`Case::limited_to_period`], from
/// [`Case::partner_since`]).
pub fn seen_by(user: &CurrentUser, case: &Case) -> Case {
    let redacted = case.redacted_for(user.role());
    match partner_since(user, case) {
        Some(from) => redacted.limited_to_period(from),
        None => redacted,
    }
}

/// For an external partner brought into `case`: the first day of their
/// involvement, from which they see signals, contacts and agreements.
/// `None` for the school's own roles (they see everything in scope) and for
/// a partner not brought in.
pub fn partner_since(user: &CurrentUser, case: &Case) -> Option<chrono::NaiveDate> {
    if user.role().is_external() {
        case.partner_since(&user.identity())
    } else {
        None
    }
}

/// Whether the user may read `student`'s case (`None`: the student has
/// none), by [`Permission::ReadCase`] with the "brought in" relation taken
/// from the case itself: an external partner only while brought into the
/// open case (the leerplichtambtenaar may see a student for a sent DUO
/// melding, but not the dossier unless the school shares it).
pub fn may_read_case(user: &CurrentUser, student: &Student, case: Option<&Case>) -> bool {
    let facts = StudentFacts {
        brought_in: case.is_some_and(|c| c.is_open() && c.involves(&user.identity())),
        ..user.facts(student)
    };
    permission::may_for(user.role(), Permission::ReadCase, facts)
}

/// The address of a student's dossier page: where a refused save sends
/// the user to see the current version.
pub fn dossier_href(student: &str) -> String {
    format!(
        "/leerlingen/{}/dossier",
        percent_encoding::utf8_percent_encode(student, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// One change of a student's case: loads the stored case with its version
/// (scope and role checked as in [`load_for_change`]), lets `change`
/// modify it, and saves it with [`save`], checked against the version
/// read. `expected` is the version the user's form was made from (its
/// `versie` field), when it says: another stored version refuses the change
/// before `change` runs. Either way a save that finds another version than
/// the one read (someone saved in between, in this app or another server)
/// is refused: [`PageError::Stale`], nothing saved. `change` returns the
/// audit detail, or an error that leaves the stored case as it was.
/// `None` for a student without a case.
pub async fn update<T>(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    expected: Option<u32>,
    change: impl FnOnce(&Student, &mut Option<Case>) -> Result<(String, T), PageError>,
) -> Result<T, PageError> {
    let (student, stored) = load_for_change(state, user, id).await?;
    let version = stored.as_ref().map(|(_, v)| *v);
    if expected.is_some() && expected != version {
        return Err(PageError::superseded("dit dossier", dossier_href(id)));
    }
    let mut case = stored.map(|(c, _)| c);
    let opened_on = case.as_ref().map(|c| c.opened_on);
    let (detail, out) = change(&student, &mut case)?;
    if let Some(c) = &case {
        // The case read, at the version read; a case opened in place of a
        // closed one is another row, which must not exist yet.
        let check = match version {
            Some(v) if opened_on == Some(c.opened_on) => VersionCheck::Version(v),
            _ => VersionCheck::New,
        };
        save(state, user, c, check, &detail).await?;
    }
    Ok(out)
}

/// The jeugdarts's confidential note (the one change an external partner
/// makes), checked like [`update`]: only a jeugdarts brought into the
/// student's open case. Returns the domain's refusal (an empty note) as
/// `Ok(Err(..))` so that the page can show it at the form.
pub async fn add_confidential_note(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    text: &str,
) -> Result<Result<(), aanwezig_domain::CaseError>, PageError> {
    let student = student_in_scope(state, user, id)?;
    user.require_may(Permission::ConfidentialNotes)?;
    let (mut case, version) = state
        .store
        .case_with_version(&student.id)
        .await?
        .filter(|(c, _)| c.is_open() && c.involves(&user.identity()))
        .ok_or(PageError::NotFound)?;
    let added = case.add_confidential(aanwezig_domain::case::ConfidentialNote {
        on: state.clock.today(),
        by: actor(user),
        text: text.to_owned(),
    });
    if added.is_ok() {
        save(
            state,
            user,
            &case,
            VersionCheck::Version(version),
            "dossier: vertrouwelijke notitie jeugdarts",
        )
        .await?;
    }
    Ok(added)
}

/// The account behind an involvement: the user among `users` whose
/// account it is ([`Involvement::is_of`]), if it still exists. A username
/// alone does not say: it may now belong to someone else.
///
/// [`Involvement::is_of`]: aanwezig_domain::case::Involvement::is_of
pub fn account_of<'a>(
    users: &'a [aanwezig_storage::User],
    involvement: &aanwezig_domain::case::Involvement,
) -> Option<&'a aanwezig_storage::User> {
    users.iter().find(|u| involvement.is_of(&u.identity()))
}

/// The student's latest case as stored (not redacted) with its version,
/// for a change by a user who may change cases; `NotFound` outside scope,
/// `Forbidden` for a role that may not change cases.
pub async fn load_for_change(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(Student, Option<(Case, u32)>), PageError> {
    let student = student_in_scope(state, user, id)?;
    user.require(user.may_for(Permission::ChangeCase, &student))?;
    let case = state.store.case_with_version(&student.id).await?;
    Ok((student, case))
}

/// The version of the student's latest case, for a form to carry back
/// (its `versie` field): `None` when the student has none.
pub async fn case_version(state: &AppState, student: &Student) -> Result<Option<u32>, PageError> {
    Ok(state
        .store
        .case_with_version(&student.id)
        .await?
        .map(|(_, v)| v))
}

/// The version a posted form was made from (its `versie` field), if it
/// carries one.
pub fn posted_version<'a>(mut fields: impl Iterator<Item = (&'a str, &'a str)>) -> Option<u32> {
    fields
        .find(|(k, _)| *k == "versie")
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// Saves a changed case: a new version in the store, checked against the
/// version it was read at (`check`) and written with its audit entry
/// (`detail`: what changed, in Dutch) in one transaction; then the
/// engine's view of the case (the 3a conversations) in the live school,
/// with the student re-evaluated (the change feed brings the same to every
/// other app server, and again to this one: applying it twice is
/// harmless).
///
/// Private: every change goes through [`update`] (or
/// [`add_confidential_note`]). A case loaded with [`load`] is redacted and
/// must never be saved.
async fn save(
    state: &AppState,
    user: &CurrentUser,
    case: &Case,
    check: VersionCheck,
    detail: &str,
) -> Result<u32, PageError> {
    let entry = AuditEntry {
        at: state.clock.now(),
        username: user.user.username.clone(),
        action: AuditAction::Change,
        student: Some(case.student.clone()),
        detail: detail.to_owned(),
    };
    let version = state
        .store
        .save_case_checked(case, check, &user.user.username, state.clock.now(), &entry)
        .await
        .map_err(|e| {
            PageError::from_store(e, "dit dossier", dossier_href(case.student.as_str()))
        })?;
    state.write()?.set_case_context(case);
    Ok(version)
}
