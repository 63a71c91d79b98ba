//! The touchtone server: configuration, the HTTPS remote API, the CLI and
//! the demo, wired onto the service. `main.rs` only parses the command
//! line and calls [`cli::run`].
//!
//! - [`config`]: the TOML file into typed settings (`config/example.toml`
//!   is what `touchtone init` writes).
//! - [`app`]: wiring: from a config to a running server.
//! - [`http`]: the HTTPS door (the remote API, voice OTP, health).
//! - [`cli`]: the commands; [`demo`]: `touchtone demo` and its data set.
//! - [`tls`]: certificates and the process's one rustls provider.
//! - `scheduler`: directory re-syncs inside `serve`; `shutdown`: waiting
//!   for the signal to stop; `secret_files`: owner-only files and the
//!   pepper.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod http;
mod notice_calls;
mod scheduler;
mod secret_files;
mod shutdown;
pub mod tls;
