//! Persistence for touchtone over sqlx: SQLite (the embedded default, one
//! file) and PostgreSQL (shared by several `touchtone serve` nodes).
//!
//! Every query is written once, in SQL both databases accept, and run
//! through sqlx's `Any` driver: times are `BIGINT` milliseconds, flags are
//! `BIGINT` 0/1, parameters are `$1, $2, …`. The schema lives in two
//! migration sets (`migrations/sqlite`, `migrations/postgres`) kept in step.
//!
//! Functions in the modules below take a `&mut AnyConnection`, so that the
//! service can put several of them in one transaction (a state change, its
//! audit record and its outbox events commit together or not at all).
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a commit
//! that returned is on disk before anything is told to a caller.

pub mod activity;
pub mod api_users;
pub mod audit;
pub mod backup;
pub mod challenges;
mod db;
pub mod directory_members;
pub mod enrolment_pins;
mod error;
pub mod local_directory;
pub mod lockouts;
pub mod login_throttle;
pub mod operations;
pub mod otp_calls;
pub mod outbox;
pub mod people;
pub mod phone_verifications;
pub mod portal_sessions;
pub mod questions;
pub mod registered_phones;
pub mod reminders;
pub mod session_factors;
pub mod sessions;
pub mod sign_in_failures;
pub mod totp_secrets;

pub use db::{Backend, Store, StoreOptions};
pub use error::StoreError;
pub use sqlx::AnyConnection;
pub use sqlx::any::Any;

/// A transaction on the store; commit it or drop it to roll back.
pub type Tx<'a> = sqlx::Transaction<'a, Any>;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
