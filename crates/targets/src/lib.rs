//! Systems where touchtone sets passwords and unlocks accounts.
//!
//! Every system is a [`Target`]: it declares the password policy it
//! enforces, sets a password on one account, and unlocks one account. The
//! service calls targets one account at a time and records each step
//! durably around the call, so a target only has to do its one job and
//! report a clear [`TargetError`].
//!
//! Implementations here: [`local::LocalTarget`] (accounts in touchtone's own
//! database), [`command::CommandTarget`] (a configured program that
//! receives JSON on stdin) and [`ldap::LdapTarget`] (OpenLDAP and other
//! RFC servers, and Active Directory; also a [`ldap::Directory`] people are
//! imported from).

pub mod command;
mod error;
pub mod ldap;
pub mod local;
mod registry;

use async_trait::async_trait;
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;

pub use error::TargetError;
pub use registry::Targets;

/// Options of a password reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetOptions {
    /// Ask the system to make the user change the password at next login
    /// (where the system supports it).
    pub must_change: bool,
}

/// What an unlock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockOutcome {
    Unlocked,
    /// The account was not locked; nothing was changed.
    WasNotLocked,
}

/// A system holding accounts whose passwords touchtone can set.
///
/// Implementations must bound every network or process call in time, must
/// never put the password in an error, a log line or a command line, and
/// should map the system's refusals to the most specific [`TargetError`].
#[async_trait]
pub trait Target: Send + Sync {
    /// The configured name (`local`, `corp-ad`, …), as stored on accounts.
    fn name(&self) -> &str;

    /// The policy this system enforces on new passwords.
    fn policy(&self) -> &PasswordPolicy;

    /// Sets the password of `account`.
    async fn set_password(
        &self,
        account: &str,
        password: &SecretString,
        options: ResetOptions,
    ) -> Result<(), TargetError>;

    /// Clears an intruder lockout of `account` on this system.
    async fn unlock(&self, account: &str) -> Result<UnlockOutcome, TargetError>;

    /// The target as a [`local::LocalTarget`], whose changes can commit
    /// with their record in one transaction; `None` for every system whose
    /// outcome after a crash is unknown.
    fn as_local(&self) -> Option<&local::LocalTarget> {
        None
    }

    /// Whether `password` is the current password of `account`, compared
    /// in constant time (or by the system itself). Systems that cannot
    /// tell answer [`TargetError::Unsupported`].
    async fn check_password(
        &self,
        _account: &str,
        _password: &SecretString,
    ) -> Result<bool, TargetError> {
        Err(TargetError::Unsupported)
    }
}
