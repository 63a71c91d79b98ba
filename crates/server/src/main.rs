//! The `touchtone` binary: parses the command line, sets up logging and
//! runs the command. Everything else is in the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = touchtone_server::cli::Cli::parse();
    // rsipstack logs every SIP message in full at info level: too much for
    // a call server's normal log (TOUCHTONE_LOG=rsipstack=info shows them).
    let filter = EnvFilter::try_from_env("TOUCHTONE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,rsipstack=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    touchtone_server::tls::install_crypto_provider();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(touchtone_server::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
