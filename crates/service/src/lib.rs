//! touchtone's use cases, and the one place every security rule lives.
//!
//! The HTTPS API and the IVR are two front doors onto [`Service`]: neither
//! checks a session, counts a failure or writes an audit row itself. A
//! rule written here (verification before reset, intruder lockout,
//! throttling, one-time session IDs) therefore holds for every door.
//!
//! - [`api`]: the eight remote-API functions (`Login` … `Logout`), cut by
//!   concept (credentials, sessions, lookup, verification, passwords,
//!   account operations); `session_gate` spends and rotates their one-time
//!   session IDs.
//! - [`people`]: people as the doors see them, who may be acted on, and
//!   the intruder lock every door's failures count toward.
//! - [`enrolment`]: the question pool and enrolled answers.
//! - [`portal`]: the self-service portal: sign-in with the person's own
//!   password, their status, enrolling answers.
//! - [`admin`]: operator actions behind the CLI (API users, people import,
//!   clearing lockouts, local accounts, audit verification).
//! - [`directory_sync`]: people imported and re-synced from directories.
//! - [`otp`]: voice-OTP calls: accepting them (credentials, number rules,
//!   the toll-fraud guard), their durable queue and status history.
//! - [`events`] and [`delivery`]: event actions through the durable outbox.
//! - [`settings`], [`clock`], [`hashing`], [`error`]: what the rest needs.
//!
//! No store row crosses this crate's boundary: every function takes and
//! returns the service's own types (`people::Person`, `otp::CallDetail`,
//! `api::ApiUserInfo`, …), so a door cannot read a password hash or a
//! column it should not see, and the store can change under the doors.

pub mod admin;
pub mod api;
pub mod clock;
pub mod delivery;
pub mod directory_sync;
pub mod enrolment;
pub mod error;
pub mod events;
pub mod factors;
pub mod hashing;
pub mod notices;
pub mod otp;
pub mod people;
pub mod portal;
pub mod sealing;
mod session_gate;
pub mod settings;

use std::sync::Arc;

use touchtone_store::Store;
use touchtone_targets::Targets;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ServiceError;
pub use events::EventRouter;
pub use hashing::Hasher;
pub use settings::Settings;

/// Which front door a request came through; recorded with failures so an
/// operator sees where an attack came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Api,
    Ivr,
    /// The self-service portal (web pages).
    Portal,
}

impl Door {
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Api => "api",
            Door::Ivr => "ivr",
            Door::Portal => crate::portal::DOOR,
        }
    }
}

/// Who is asking: the network address and the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub ip: std::net::IpAddr,
    pub door: Door,
}

/// The use cases over a store, the targets and the event actions. Cheap to
/// clone; every clone shares the same parts.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    targets: Targets,
    settings: Settings,
    hasher: Hasher,
    events: EventRouter,
    clock: Arc<dyn Clock>,
    directories: Vec<directory_sync::DirectorySource>,
    credentials: api::credentials::CredentialCache,
    otp_wake: Arc<tokio::sync::Notify>,
}

impl Service {
    pub fn new(
        store: Store,
        targets: Targets,
        settings: Settings,
        hasher: Hasher,
        events: EventRouter,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                targets,
                settings,
                hasher,
                events,
                clock,
                directories: Vec::new(),
                credentials: api::credentials::CredentialCache::new(),
                otp_wake: Arc::new(tokio::sync::Notify::new()),
            }),
        }
    }

    /// Adds the directory imports; call before the service is cloned.
    pub fn with_directory_sources(mut self, sources: Vec<directory_sync::DirectorySource>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.directories = sources,
            None => panic!("with_directory_sources must be called before the service is cloned"),
        }
        self
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn targets(&self) -> &Targets {
        &self.inner.targets
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    pub fn events(&self) -> &EventRouter {
        &self.inner.events
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Whether the database answers (for health checks).
    pub async fn check_database(&self) -> Result<(), ServiceError> {
        Ok(self.store().ping().await?)
    }

    /// Closes the database connections (at shutdown); calls made after
    /// this fail with [`ServiceError::Unavailable`].
    pub async fn close(&self) {
        self.store().close().await;
    }
}
