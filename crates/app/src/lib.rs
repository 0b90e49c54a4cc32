//! The application layer of aanwezig: what a user can do, shared by the
//! web pages, the JSON API and the command line.
//!
//! Layers (docs/architecture.md): the domain crate holds the rules of the
//! step plan and knows nothing of storage or people signing in; the storage
//! crates keep data; this crate decides *who may do what* ([`permission`])
//! and runs each use case as one unit: permission check, the domain call,
//! the change and its audit entry. Web and CLI parse input, call this
//! layer, and render what it returns.

pub mod actor;
pub mod afstemming;
pub mod audit;
pub mod calls;
pub mod error;
pub mod import_dir;
pub mod permission;
pub mod retention;
pub mod users;

#[cfg(test)]
mod testing;

pub use actor::Actor;
pub use error::AppError;
pub use permission::{Grant, Permission, Relation, StudentFacts, GRANTS};
