//! `aanwezig user`: manage the people who sign in to the web app.
//!
//! `add`, `list`, `passwd`, `set` and `remove`, through the use cases of
//! `aanwezig_app::users` (shared with the web's Gebruikers page) as the
//! command line's actor. Every change is written to the audit log (action
//! `user_admin`) under the operating-system user who ran the command
//! (`--by`, default `$USER`), with what changed but never a password. The rules for usernames and passwords are `aanwezig_auth`'s,
//! shared with the web app; this module adds the rules of a user record:
//! a mentor has at least one class, every other role has none.
//!
//! A password is either read from standard input (`--password-stdin`, for
//! scripts and password managers) or generated and shown once. It is never
//! taken as an argument, which would leave it in the shell history and in
//! the process list.

use crate::session::Database;
use std::fmt::Write as _;
use std::io::Read;

use aanwezig_app::users::{self as uc, classes_text, yes_no};
use aanwezig_app::{Actor, AppError};

use super::app_error;
use aanwezig_auth::Secret;
use aanwezig_domain::explain::counted_nl;
use aanwezig_domain::Role;
use aanwezig_storage::{Store, User};
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgAction, Args, Subcommand};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use crate::session;

/// `aanwezig user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    /// Wie het beheer doet (voor het auditlog); standaard de gebruikersnaam van het systeem.
    #[arg(
        long,
        value_name = "WIE",
        env = "USER",
        default_value = "beheerder",
        global = true
    )]
    pub by: String,
    #[command(subcommand)]
    pub action: UserAction,
}

/// What to do with users.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Maak een gebruiker aan; zonder --password-stdin wordt een wachtwoord gemaakt en één keer getoond.
    Add(AddArgs),
    /// Toon alle gebruikers.
    List,
    /// Geef een gebruiker een nieuw wachtwoord (en log de gebruiker overal uit).
    Passwd(PasswdArgs),
    /// Wijzig naam, rol, klassen, e-mailadres of actief/inactief.
    Set(SetArgs),
    /// Verwijder een gebruiker (het logboek blijft bewaard).
    Remove(RemoveArgs),
}

/// `aanwezig user add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Gebruikersnaam: 2 tot 64 tekens a-z, 0-9, '.', '_' of '-'.
    #[arg(value_name = "GEBRUIKERSNAAM")]
    pub username: String,
    /// Volledige naam, zoals in de app getoond.
    #[arg(long, value_name = "NAAM")]
    pub name: String,
    /// Rol: beheerder, verzuimcoordinator, ondersteuningscoordinator, mentor, leerplichtambtenaar, jeugdarts of ketenpartner.
    #[arg(long, value_name = "ROL", value_parser = parse_role)]
    pub role: Role,
    /// Klas van een mentor; mag vaker. Een mentor heeft er minstens één nodig, andere rollen geen.
    #[arg(long = "class", value_name = "KLAS")]
    pub classes: Vec<String>,
    /// E-mailadres.
    #[arg(long, value_name = "ADRES")]
    pub email: Option<String>,
    /// Lees het wachtwoord van standaardinvoer (eerste regel) in plaats van er een te maken.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `aanwezig user passwd`.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// De gebruiker.
    #[arg(value_name = "GEBRUIKERSNAAM")]
    pub username: String,
    /// Lees het nieuwe wachtwoord van standaardinvoer (eerste regel) in plaats van er een te maken.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `aanwezig user set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// De gebruiker.
    #[arg(value_name = "GEBRUIKERSNAAM")]
    pub username: String,
    /// Nieuwe volledige naam.
    #[arg(long, value_name = "NAAM")]
    pub name: Option<String>,
    /// Nieuwe rol.
    #[arg(long, value_name = "ROL", value_parser = parse_role)]
    pub role: Option<Role>,
    /// Nieuwe klassen (vervangen de oude); mag vaker.
    #[arg(long = "class", value_name = "KLAS", conflicts_with = "clear_classes")]
    pub classes: Vec<String>,
    /// Haal alle klassen weg (nodig als een mentor een andere rol krijgt).
    #[arg(long)]
    pub clear_classes: bool,
    /// Nieuw e-mailadres; "" haalt het weg.
    #[arg(long, value_name = "ADRES")]
    pub email: Option<String>,
    /// Actief (true) of geblokkeerd (false); blokkeren logt de gebruiker ook overal uit.
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    pub active: Option<bool>,
}

/// `aanwezig user remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// De gebruiker.
    #[arg(value_name = "GEBRUIKERSNAAM")]
    pub username: String,
}

/// Runs `aanwezig user …` (`today`: the school date, for the end of a
/// removed partner's involvements).
pub async fn run(
    db: &Database,
    args: &UserArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // An audit entry must name someone, also when $USER is set but empty.
    let by = match args.by.trim() {
        "" => "beheerder",
        by => by,
    };
    let store = session::open_store(db).await?;
    let admin = Admin {
        store: store.as_ref(),
        actor: Actor::command_line(by),
        today,
        now,
    };
    let result = match &args.action {
        UserAction::Add(a) => admin.add(a, read_stdin_password).await,
        UserAction::List => admin.list().await,
        UserAction::Passwd(a) => admin.passwd(a, read_stdin_password).await,
        UserAction::Set(a) => admin.set(a).await,
        UserAction::Remove(a) => admin.remove(a).await,
    };
    store.close().await;
    print!("{}", result?);
    Ok(())
}

/// Parses a role for clap, listing the choices when it is unknown.
fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("onbekende rol '{s}'; kies uit {}", all.join(", "))
    })
}

/// Reads a password from the first line of standard input.
fn read_stdin_password() -> anyhow::Result<Secret> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("wachtwoord van standaardinvoer lezen")?;
    let first = input.lines().next().unwrap_or_default();
    // Only the line end goes: spaces may be part of a passphrase.
    Ok(Secret::new(first.trim_end_matches('\r')))
}

/// A display name, trimmed; it may not be empty.
fn check_name(name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() {
        bail!("de naam mag niet leeg zijn");
    }
    Ok(name.to_owned())
}

/// Trims the classes and drops repeats (compared without case, as the
/// scope check compares them).
fn clean_classes(classes: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in classes {
        let c = c.trim();
        if c.is_empty() {
            bail!("een klas mag niet leeg zijn");
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(c)) {
            out.push(c.to_owned());
        }
    }
    Ok(out)
}

/// A mentor has at least one class; every other role has none (their
/// scope does not depend on classes, so a class there would only mislead).
fn check_role_classes(role: Role, classes: &[String]) -> anyhow::Result<()> {
    match (role, classes.is_empty()) {
        (Role::Mentor, true) => {
            bail!("een mentor heeft minstens één klas nodig: geef --class KLAS")
        }
        (Role::Mentor, false) | (_, true) => Ok(()),
        (other, false) => bail!(
            "alleen een mentor heeft klassen, een {} niet (haal ze weg met --clear-classes)",
            other.label_nl()
        ),
    }
}

/// `None` for an empty address; an error for one without a local part and
/// a domain.
fn check_email(email: &str) -> anyhow::Result<Option<String>> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(None);
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        bail!("{email:?} is geen e-mailadres");
    }
    Ok(Some(email.to_owned()))
}

/// The user commands against one store, as `actor` at `now` (on `today`).
struct Admin<'a> {
    store: &'a dyn Store,
    actor: Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl Admin<'_> {
    async fn existing(&self, username: &str) -> anyhow::Result<User> {
        match uc::find(self.store, &self.actor, username).await {
            Ok(u) => Ok(u),
            Err(AppError::NotFound) => {
                bail!("gebruiker {username} bestaat niet (zie `aanwezig user list`)")
            }
            Err(e) => Err(app_error(e)),
        }
    }

    /// A new password: read and checked, or generated. Returns the secret
    /// and whether it must be shown.
    fn new_password(
        username: &str,
        from_stdin: bool,
        read: impl FnOnce() -> anyhow::Result<Secret>,
    ) -> anyhow::Result<(Secret, bool)> {
        if !from_stdin {
            return Ok((Secret::new(aanwezig_auth::generate_password()), true));
        }
        let pw = read()?;
        if let Err(why) = aanwezig_auth::check_password_strength(pw.expose(), username) {
            bail!("wachtwoord geweigerd: {why}");
        }
        Ok((pw, false))
    }

    /// A warning when no active beheerder is left: nobody could then manage
    /// users in the web app (this command still can).
    async fn admin_warning(&self) -> anyhow::Result<String> {
        if uc::no_active_beheerder(self.store, &self.actor)
            .await
            .map_err(app_error)?
        {
            Ok("Let op: er is nu geen actieve beheerder meer.\n".to_owned())
        } else {
            Ok(String::new())
        }
    }

    async fn add(
        &self,
        a: &AddArgs,
        read: impl FnOnce() -> anyhow::Result<Secret>,
    ) -> anyhow::Result<String> {
        if let Err(why) = aanwezig_auth::check_username(&a.username) {
            bail!("{why}");
        }
        let display_name = check_name(&a.name)?;
        let classes = clean_classes(&a.classes)?;
        check_role_classes(a.role, &classes)?;
        let email = a.email.as_deref().map(check_email).transpose()?.flatten();
        // Before asking for and hashing a password.
        if uc::exists(self.store, &self.actor, &a.username)
            .await
            .map_err(app_error)?
        {
            bail!("gebruiker {} bestaat al", a.username);
        }
        let (password, show) = Self::new_password(&a.username, a.password_stdin, read)?;
        let new = uc::NewUser {
            username: a.username.clone(),
            display_name,
            role: a.role,
            classes,
            email,
            password_hash: aanwezig_auth::hash_password(password.expose())?,
        };
        let user = match uc::add(self.store, &self.actor, new, self.now).await {
            Ok(user) => user,
            Err(AppError::Conflict(_)) => bail!("gebruiker {} bestaat al", a.username),
            Err(e) => return Err(app_error(e)).context("gebruiker opslaan"),
        };
        let summary = uc::summary(&user);
        let mut out = format!("Gebruiker {summary} aangemaakt.\n");
        if show {
            let _ = writeln!(
                out,
                "Wachtwoord: {}\n(Dit wordt maar één keer getoond; geef het veilig door.)",
                password.expose()
            );
        }
        Ok(out)
    }

    async fn list(&self) -> anyhow::Result<String> {
        let users = uc::list(self.store, &self.actor).await.map_err(app_error)?;
        if users.is_empty() {
            return Ok(
                "Nog geen gebruikers. Maak er een met `aanwezig user add GEBRUIKERSNAAM --name NAAM --role ROL`.\n"
                    .to_owned(),
            );
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header([
                "gebruikersnaam",
                "naam",
                "rol",
                "klassen",
                "e-mail",
                "actief",
            ]);
        for u in &users {
            t.add_row([
                u.username.as_str(),
                u.display_name.as_str(),
                u.role.label_nl(),
                &classes_text(&u.classes),
                u.email.as_deref().unwrap_or("-"),
                yes_no(u.active),
            ]);
        }
        let n = users.len();
        Ok(format!(
            "{t}\n{n} {}\n",
            if n == 1 { "gebruiker" } else { "gebruikers" }
        ))
    }

    async fn passwd(
        &self,
        a: &PasswdArgs,
        read: impl FnOnce() -> anyhow::Result<Secret>,
    ) -> anyhow::Result<String> {
        let user = self.existing(&a.username).await?;
        let (password, show) = Self::new_password(&user.username, a.password_stdin, read)?;
        let hash = aanwezig_auth::hash_password(password.expose())?;
        // Whoever knew the old password must not stay signed in.
        let ended = uc::set_password(self.store, &self.actor, &user, hash, self.now)
            .await
            .map_err(app_error)?;
        let mut out = format!("Nieuw wachtwoord voor {} ingesteld.\n", user.username);
        if ended > 0 {
            let _ = writeln!(
                out,
                "{} van {} beëindigd.",
                counted_nl(ended, "sessie", "sessies"),
                user.username
            );
        }
        if show {
            let _ = writeln!(
                out,
                "Wachtwoord: {}\n(Dit wordt maar één keer getoond; geef het veilig door.)",
                password.expose()
            );
        }
        Ok(out)
    }

    async fn set(&self, a: &SetArgs) -> anyhow::Result<String> {
        if a.name.is_none()
            && a.role.is_none()
            && a.classes.is_empty()
            && !a.clear_classes
            && a.email.is_none()
            && a.active.is_none()
        {
            bail!("niets te wijzigen: geef --name, --role, --class, --clear-classes, --email of --active");
        }
        let old = self.existing(&a.username).await?;
        let mut new = old.clone();
        if let Some(name) = &a.name {
            new.display_name = check_name(name)?;
        }
        if let Some(role) = a.role {
            new.role = role;
        }
        if a.clear_classes {
            new.classes.clear();
        } else if !a.classes.is_empty() {
            new.classes = clean_classes(&a.classes)?;
        }
        check_role_classes(new.role, &new.classes)?;
        if let Some(email) = &a.email {
            new.email = check_email(email)?;
        }
        if let Some(active) = a.active {
            new.active = active;
        }

        let changed = uc::change(self.store, &self.actor, &old, &new, self.now)
            .await
            .map_err(app_error)?;
        if changed.changes.is_empty() {
            return Ok(format!("Niets gewijzigd aan {}.\n", old.username));
        }
        let ended = changed.ended_sessions;
        let what = changed.changes.join("; ");
        let mut out = format!("Gebruiker {} gewijzigd: {what}.\n", new.username);
        if ended > 0 {
            let _ = writeln!(out, "{} beëindigd.", counted_nl(ended, "sessie", "sessies"));
        }
        if old.role == Role::Beheerder && old.active {
            out.push_str(&self.admin_warning().await?);
        }
        Ok(out)
    }

    /// Removes the account with the one removal use case (shared with the
    /// web app's Gebruikers page): its involvements in case
    /// dossiers end today, each in the dossier's trail, then the account
    /// and its sessions go.
    async fn remove(&self, a: &RemoveArgs) -> anyhow::Result<String> {
        let old = self.existing(&a.username).await?;
        let removed = uc::remove(self.store, &self.actor, &old, self.today, self.now)
            .await
            .map_err(app_error)
            .context("gebruiker verwijderen")?;
        let released = removed.released.len();
        let mut out = format!("Gebruiker {} verwijderd.\n", old.username);
        if released > 0 {
            let _ = writeln!(
                out,
                "Niet meer betrokken bij {}; dat staat in het verloop van {}.",
                counted_nl(released as u64, "dossier", "dossiers"),
                if released == 1 {
                    "het dossier"
                } else {
                    "elk dossier"
                }
            );
        }
        if old.role == Role::Beheerder && old.active {
            out.push_str(&self.admin_warning().await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_with_a_dutch_error() {
        assert_eq!(parse_role("mentor"), Ok(Role::Mentor));
        assert_eq!(
            parse_role("Verzuimcoördinator"),
            Ok(Role::Verzuimcoordinator)
        );
        let err = parse_role("directeur").unwrap_err();
        assert!(
            err.contains("onbekende rol") && err.contains("ketenpartner"),
            "{err}"
        );
    }

    #[test]
    fn classes_are_trimmed_and_deduplicated_without_case() {
        let got = clean_classes(&[" 2B".into(), "3a".into(), "2b".into()]).unwrap();
        assert_eq!(got, ["2B", "3a"]);
        assert!(clean_classes(&[" ".into()]).is_err());
    }

    #[test]
    fn only_mentors_have_classes_and_mentors_need_one() {
        assert!(check_role_classes(Role::Mentor, &["2B".into()]).is_ok());
        assert!(check_role_classes(Role::Beheerder, &[]).is_ok());
        let e = check_role_classes(Role::Mentor, &[]).unwrap_err();
        assert!(e.to_string().contains("minstens één klas"));
        let e = check_role_classes(Role::Jeugdarts, &["2B".into()]).unwrap_err();
        assert!(e.to_string().contains("--clear-classes"), "{e}");
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            check_email(" a.b@school.nl ").unwrap().as_deref(),
            Some("a.b@school.nl")
        );
        assert_eq!(check_email("").unwrap(), None);
        for bad in [
            "ab",
            "@school.nl",
            "a@school",
            "a@.nl",
            "a b@school.nl",
            "a@b@c.nl",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_from_stdin_must_be_strong_and_a_generated_one_is_shown() {
        let weak = Admin::new_password("jan", true, || Ok(Secret::new("kort")));
        assert!(weak.unwrap_err().to_string().contains("te kort"));
        let (pw, show) =
            Admin::new_password("jan", true, || Ok(Secret::new("een lang wachtwoord"))).unwrap();
        assert_eq!((pw.expose(), show), ("een lang wachtwoord", false));
        let (pw, show) = Admin::new_password("jan", false, || unreachable!()).unwrap();
        assert!(show);
        assert!(aanwezig_auth::check_password_strength(pw.expose(), "jan").is_ok());
    }
}
