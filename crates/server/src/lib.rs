//! The touchtone server: configuration, the HTTPS remote API, the CLI and
//! the demo, wired onto the service. `main.rs` only parses the command
//! line and calls [`cli::run`].

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
mod files;
pub mod http;
mod scheduler;
pub mod tls;
