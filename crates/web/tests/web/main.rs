//! Integration tests of the web app: the real app on port 0 with its own
//! database (SQLite, or PostgreSQL with `AANWEZIG_TEST_BACKEND=postgres`),
//! spoken to over HTTP. One test binary (style.md).

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

mod common;

mod accounts;
mod api;
mod auth;
mod browser;
mod calls;
mod contacts;
mod dossier;
mod duo_work;
mod follow;
mod import;
mod matrix;
mod matrix_contacts;
mod matrix_dossier;
mod matrix_duo;
mod matrix_tasks;
mod meldingen;
mod overview;
mod partner_period;
mod privacy;
mod reference;
mod register;
mod settings;
mod smtp;
mod steps;
mod student_numbers;
mod tasks;
mod users;
mod weekoverzicht;
