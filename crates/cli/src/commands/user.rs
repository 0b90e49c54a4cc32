//! `aanwezig user`: manage the people who sign in.

use std::path::Path;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

/// `aanwezig user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

/// What to do with users.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Toon alle gebruikers.
    List,
}

/// Runs `aanwezig user …`.
pub async fn run(_db: &Path, _args: &UserArgs, _now: DateTime<Utc>) -> anyhow::Result<()> {
    anyhow::bail!("gebruikersbeheer volgt")
}
