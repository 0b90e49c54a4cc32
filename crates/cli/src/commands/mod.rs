//! One module per subcommand.

pub mod backup;
pub mod demo;
pub mod demo_cases;
pub mod evaluate;
pub mod import;
pub mod import_dir;
pub mod migrate;
pub mod purge;
pub mod restore;
pub mod serve;
pub mod user;
