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

/// A use case's refusal or failure as the command line reports it: the
/// Dutch message, with the internal cause where there is one.
pub(crate) fn app_error(e: aanwezig_app::AppError) -> anyhow::Error {
    match &e {
        aanwezig_app::AppError::Store(_) | aanwezig_app::AppError::Internal { .. } => {
            anyhow::anyhow!("{e}: {}", e.detail())
        }
        _ => anyhow::anyhow!("{e}"),
    }
}
