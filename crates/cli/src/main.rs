//! The `aanwezig` binary: parses the command line, reads the clock once,
//! and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = aanwezig::Cli::parse();
    // The one place that reads the clock: everything below gets `today`.
    #[expect(
        clippy::disallowed_methods,
        reason = "the entry point reads the clock once"
    )]
    let now = chrono::Utc::now();
    #[expect(
        clippy::disallowed_methods,
        reason = "the entry point reads the clock once"
    )]
    let local_today = chrono::Local::now().date_naive();
    match aanwezig::run(cli, local_today, now).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fout: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
