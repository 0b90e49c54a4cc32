//! User administration, shared by the web's Gebruikers page and `aanwezig
//! user`: list the accounts, add one, change its name, role, classes,
//! e-mail or whether it is active, give it a new password, and remove it
//! (through [`aanwezig_storage::remove_user`], which ends its involvements
//! in case dossiers first).
//!
//! Each front end checks its own input (a form with field errors, command
//! line arguments with one message); this module checks who may do it,
//! writes the change, ends the sessions a change must end, and writes the
//! audit entry (action `user_admin`, never a password). Every entry's
//! detail starts with [`detail_prefix`], so the list can show the latest
//! change of each account, from the web or the command line. Password
//! rules and hashing stay in `aanwezig-auth`: a use case takes the hash.

use std::collections::HashMap;

use aanwezig_domain::explain::counted_nl;
use aanwezig_domain::Role;
use aanwezig_storage::{AuditAction, AuditFilter, RemovedUser, Store, StoreError, User};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{audit, Actor, AppError, Permission};

/// Refusal: a beheerder deactivating their own account.
pub const NOT_YOURSELF_INACTIVE: &str =
    "U kunt uw eigen account niet uitzetten; laat een andere beheerder dat doen.";
/// Refusal: a beheerder giving themselves another role.
pub const NOT_YOURSELF_ROLE: &str =
    "U kunt uzelf geen andere rol geven; laat een andere beheerder dat doen.";
/// Refusal: a beheerder setting their own password on the Gebruikers page.
pub const NOT_YOURSELF_PASSWORD: &str = "Uw eigen wachtwoord stelt u hier niet opnieuw in: dat zou u meteen uitloggen. Laat een andere beheerder het doen of gebruik op de server 'aanwezig user passwd GEBRUIKERSNAAM'.";
/// Refusal: a beheerder removing their own account.
pub const NOT_YOURSELF_REMOVE: &str =
    "U kunt uw eigen account niet verwijderen; laat een andere beheerder dat doen.";

/// The message of a username that is taken.
pub fn taken(username: &str) -> String {
    format!("De gebruikersnaam {username} bestaat al; kies een andere.")
}

/// The prefix of every audit detail about a user.
pub fn detail_prefix(username: &str) -> String {
    format!("gebruiker {username}:")
}

/// Whether `user` is the acting account itself. The command line has no
/// account, so it is never itself.
fn is_self(actor: &Actor, user: &User) -> bool {
    !actor.account_id.is_empty() && actor.account_id == user.account_id
}

/// The classes for people: `2B, 3A` or `-`.
pub fn classes_text(classes: &[String]) -> String {
    if classes.is_empty() {
        "-".to_owned()
    } else {
        classes.join(", ")
    }
}

/// `ja` or `nee`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "ja"
    } else {
        "nee"
    }
}

/// All accounts, sorted as the store keeps them.
pub async fn list(store: &dyn Store, actor: &Actor) -> Result<Vec<User>, AppError> {
    actor.require(Permission::ManageUsers)?;
    Ok(store.users().await?)
}

/// The time of the latest user-administration entry per username. The log
/// is read newest first; a few thousand entries cover any school's history
/// of account changes in practice.
pub async fn latest_changes(
    store: &dyn Store,
    actor: &Actor,
) -> Result<HashMap<String, DateTime<Utc>>, AppError> {
    actor.require(Permission::ManageUsers)?;
    let log = store
        .audit_log(&AuditFilter {
            student: None,
            username: None,
            limit: 5000,
        })
        .await?;
    let mut latest = HashMap::new();
    for e in log.iter().filter(|e| e.action == AuditAction::UserAdmin) {
        if let Some(name) = e
            .detail
            .strip_prefix("gebruiker ")
            .and_then(|r| r.split([':', ' ']).next())
        {
            latest.entry(name.to_owned()).or_insert(e.at);
        }
    }
    Ok(latest)
}

/// The account `username`; [`AppError::NotFound`] when there is none.
pub async fn find(store: &dyn Store, actor: &Actor, username: &str) -> Result<User, AppError> {
    actor.require(Permission::ManageUsers)?;
    store.user(username).await?.ok_or(AppError::NotFound)
}

/// Whether an account `username` exists (checked before a password is
/// asked for and hashed).
pub async fn exists(store: &dyn Store, actor: &Actor, username: &str) -> Result<bool, AppError> {
    actor.require(Permission::ManageUsers)?;
    Ok(store.user(username).await?.is_some())
}

/// A new account, checked by the front end.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub classes: Vec<String>,
    pub email: Option<String>,
    /// `aanwezig_auth::hash_password`'s hash.
    pub password_hash: String,
}

/// `Naam, Rol, klassen 2B` as the command line and the log show a user.
pub fn summary(user: &User) -> String {
    format!(
        "{} ({}, {}{})",
        user.username,
        user.display_name,
        user.role.label_nl(),
        if user.classes.is_empty() {
            String::new()
        } else {
            format!(", klassen {}", user.classes.join(", "))
        }
    )
}

/// Adds the account `new`; [`AppError::Conflict`] with [`taken`] when the
/// username exists.
pub async fn add(
    store: &dyn Store,
    actor: &Actor,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    actor.require(Permission::ManageUsers)?;
    let mut user = User {
        username: new.username,
        display_name: new.display_name,
        role: new.role,
        classes: new.classes,
        email: new.email,
        active: true,
        password_hash: new.password_hash,
        created_at: now,
        // The store gives the new account its own id.
        account_id: String::new(),
    };
    if store.user(&user.username).await?.is_some() {
        return Err(AppError::Conflict(taken(&user.username)));
    }
    match store.create_user(&user).await {
        Ok(id) => user.account_id = id,
        Err(StoreError::Conflict(_)) => return Err(AppError::Conflict(taken(&user.username))),
        Err(e) => return Err(e.into()),
    }
    let mut classes_note = String::new();
    if !user.classes.is_empty() {
        classes_note = format!(", klassen {}", user.classes.join(", "));
    }
    audit::write(
        store,
        actor,
        now,
        AuditAction::UserAdmin,
        None,
        format!(
            "{} aangemaakt ({}, rol {}{classes_note})",
            detail_prefix(&user.username),
            user.display_name,
            user.role.label_nl()
        ),
    )
    .await?;
    Ok(user)
}

/// What a change did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// Each change for people (`rol Mentor → Jeugdarts`); empty when
    /// nothing changed and nothing was written.
    pub changes: Vec<String>,
    /// The sessions ended because the account was deactivated.
    pub ended_sessions: u64,
}

/// The changes from `old` to `new`, for people.
fn changes(old: &User, new: &User) -> Vec<String> {
    let mut changes = Vec::new();
    if new.display_name != old.display_name {
        changes.push(format!(
            "naam {:?} → {:?}",
            old.display_name, new.display_name
        ));
    }
    if new.role != old.role {
        changes.push(format!(
            "rol {} → {}",
            old.role.label_nl(),
            new.role.label_nl()
        ));
    }
    if new.classes != old.classes {
        changes.push(format!(
            "klassen {} → {}",
            classes_text(&old.classes),
            classes_text(&new.classes)
        ));
    }
    if new.email != old.email {
        changes.push(format!(
            "e-mail {} → {}",
            old.email.as_deref().unwrap_or("-"),
            new.email.as_deref().unwrap_or("-")
        ));
    }
    if new.active != old.active {
        changes.push(format!(
            "actief {} → {}",
            yes_no(old.active),
            yes_no(new.active)
        ));
    }
    changes
}

/// Stores `new` (name, role, classes, e-mail, active) over `old`: ends the
/// account's sessions when it is not active, and audits what changed.
/// Nothing is written when nothing changed. A beheerder may not
/// deactivate their own account or give themselves another role
/// ([`AppError::Invalid`]).
pub async fn change(
    store: &dyn Store,
    actor: &Actor,
    old: &User,
    new: &User,
    now: DateTime<Utc>,
) -> Result<Changed, AppError> {
    actor.require(Permission::ManageUsers)?;
    if is_self(actor, old) {
        if !new.active {
            return Err(AppError::invalid(NOT_YOURSELF_INACTIVE));
        }
        if new.role != Role::Beheerder {
            return Err(AppError::invalid(NOT_YOURSELF_ROLE));
        }
    }
    let changes = changes(old, new);
    if changes.is_empty() {
        return Ok(Changed::default());
    }
    let new = User {
        username: old.username.clone(),
        account_id: old.account_id.clone(),
        password_hash: old.password_hash.clone(),
        created_at: old.created_at,
        ..new.clone()
    };
    store.update_user(&new).await?;
    let ended_sessions = if new.active {
        0
    } else {
        store.delete_user_sessions(&new.username).await?
    };
    audit::write(
        store,
        actor,
        now,
        AuditAction::UserAdmin,
        None,
        format!(
            "{} gewijzigd: {}",
            detail_prefix(&new.username),
            changes.join("; ")
        ),
    )
    .await?;
    Ok(Changed {
        changes,
        ended_sessions,
    })
}

/// Gives `user` the password of `password_hash` and ends all its sessions
/// (whoever knew the old password must not stay signed in). Returns the
/// number of sessions ended. A beheerder does not set their own password
/// this way ([`AppError::Invalid`]): it would sign them out at once.
pub async fn set_password(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    actor.require(Permission::ManageUsers)?;
    if is_self(actor, user) {
        return Err(AppError::invalid(NOT_YOURSELF_PASSWORD));
    }
    let updated = User {
        password_hash,
        ..user.clone()
    };
    store.update_user(&updated).await?;
    let ended = store.delete_user_sessions(&updated.username).await?;
    audit::write(
        store,
        actor,
        now,
        AuditAction::UserAdmin,
        None,
        format!(
            "{} nieuw wachtwoord ingesteld; {} beëindigd",
            detail_prefix(&updated.username),
            counted_nl(ended, "sessie", "sessies")
        ),
    )
    .await?;
    Ok(ended)
}

/// Removes the account `user` for good with the storage's one removal
/// ([`aanwezig_storage::remove_user`]): its involvements in case dossiers
/// end `today`, each written in the dossier's trail, then the account and
/// its sessions go. The audit log keeps its entries. A later account with
/// the same username is a new account with a new id and inherits nothing.
pub async fn remove(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<RemovedUser, AppError> {
    actor.require(Permission::ManageUsers)?;
    if is_self(actor, user) {
        return Err(AppError::invalid(NOT_YOURSELF_REMOVE));
    }
    let removed =
        aanwezig_storage::remove_user(store, &user.username, &actor.username, today, now).await?;
    audit::write(
        store,
        actor,
        now,
        AuditAction::UserAdmin,
        None,
        format!(
            "{} verwijderd ({}, rol {}); niet meer betrokken bij {}",
            detail_prefix(&user.username),
            user.display_name,
            user.role.label_nl(),
            counted_nl(removed.released.len() as u64, "dossier", "dossiers")
        ),
    )
    .await?;
    Ok(removed)
}

/// Whether no active beheerder is left: nobody could then manage users in
/// the web app (the command line still can).
pub async fn no_active_beheerder(store: &dyn Store, actor: &Actor) -> Result<bool, AppError> {
    Ok(!list(store, actor)
        .await?
        .iter()
        .any(|u| u.active && u.role == Role::Beheerder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{audit_is_empty, now, store, ymd};
    use aanwezig_storage::prelude::*;

    fn new_user(name: &str) -> NewUser {
        NewUser {
            username: name.into(),
            display_name: "Jan".into(),
            role: Role::Mentor,
            classes: vec!["2B".into()],
            email: None,
            password_hash: "hash".into(),
        }
    }

    #[tokio::test]
    async fn only_a_beheerder_manages_users() {
        let store = store().await;
        let cli = Actor::command_line("cli");
        let jan = add(&store, &cli, new_user("jan"), now()).await.unwrap();
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Beheerder) {
            let a = Actor::new("x", role, vec!["2B".into()]);
            let forbidden = |r: Result<(), AppError>| matches!(r, Err(AppError::Forbidden));
            assert!(forbidden(list(&store, &a).await.map(drop)), "{role:?}");
            assert!(forbidden(
                add(&store, &a, new_user("piet"), now()).await.map(drop)
            ));
            let inactive = User {
                active: false,
                ..jan.clone()
            };
            assert!(forbidden(
                change(&store, &a, &jan, &inactive, now()).await.map(drop)
            ));
            assert!(forbidden(
                set_password(&store, &a, &jan, "h2".into(), now())
                    .await
                    .map(drop)
            ));
            assert!(forbidden(
                remove(&store, &a, &jan, ymd(2025, 11, 14), now())
                    .await
                    .map(drop)
            ));
        }
        let users = store.users().await.unwrap();
        assert_eq!(users.len(), 1);
        assert!(users[0].active && users[0].password_hash == "hash");
        // Only the command line's creation is in the log.
        let log = store
            .audit_log(&aanwezig_storage::AuditFilter::default())
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
    }

    #[tokio::test]
    async fn a_beheerder_does_not_lock_themselves_out() {
        let store = store().await;
        let cli = Actor::command_line("cli");
        let mut me = new_user("baas");
        me.role = Role::Beheerder;
        me.classes.clear();
        let me = add(&store, &cli, me, now()).await.unwrap();
        assert!(!me.account_id.is_empty());
        let mut actor = Actor::new("baas", Role::Beheerder, vec![]);
        actor.account_id = me.account_id.clone();
        let invalid = |r: Result<(), AppError>| matches!(r, Err(AppError::Invalid(_)));
        let off = User {
            active: false,
            ..me.clone()
        };
        assert!(invalid(
            change(&store, &actor, &me, &off, now()).await.map(drop)
        ));
        let mentor = User {
            role: Role::Mentor,
            ..me.clone()
        };
        assert!(invalid(
            change(&store, &actor, &me, &mentor, now()).await.map(drop)
        ));
        assert!(invalid(
            set_password(&store, &actor, &me, "h".into(), now())
                .await
                .map(drop)
        ));
        assert!(invalid(
            remove(&store, &actor, &me, ymd(2025, 11, 14), now())
                .await
                .map(drop)
        ));
        // The command line has no account of its own.
        assert_eq!(
            set_password(&store, &cli, &me, "h".into(), now())
                .await
                .unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn a_taken_username_is_a_conflict_and_nothing_is_audited() {
        let store = store().await;
        let cli = Actor::command_line("cli");
        let mentor = Actor::new("m", Role::Mentor, vec!["2B".into()]);
        assert!(matches!(
            add(&store, &mentor, new_user("jan"), now()).await,
            Err(AppError::Forbidden)
        ));
        assert!(audit_is_empty(&store).await);
        add(&store, &cli, new_user("jan"), now()).await.unwrap();
        assert!(matches!(
            add(&store, &cli, new_user("jan"), now()).await,
            Err(AppError::Conflict(m)) if m == taken("jan")
        ));
        let latest = latest_changes(&store, &cli).await.unwrap();
        assert_eq!(latest.get("jan"), Some(&now()));
    }
}
