//! One module per subcommand.

pub mod demo;
pub mod evaluate;
pub mod import;
pub mod serve;
pub mod user;
