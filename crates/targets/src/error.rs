//! What can go wrong on a target, with stable codes for API results.

/// A target's refusal or failure. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the account does not exist on this system")]
    NoSuchAccount,
    #[error("the account is disabled on this system")]
    AccountDisabled,
    #[error("the system refused the password: {0}")]
    PolicyRejected(String),
    #[error("the system did not answer in time")]
    Timeout,
    #[error("the system cannot be reached: {0}")]
    Unavailable(String),
    #[error("the system reported an error: {0}")]
    Failed(String),
    #[error("no target of that name is configured")]
    UnknownTarget,
    #[error("this system cannot do that")]
    Unsupported,
}

impl TargetError {
    /// A stable machine-readable code for API results and events.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::NoSuchAccount => "no_such_account",
            TargetError::AccountDisabled => "account_disabled",
            TargetError::PolicyRejected(_) => "policy_rejected",
            TargetError::Timeout => "timeout",
            TargetError::Unavailable(_) => "unavailable",
            TargetError::Failed(_) => "failed",
            TargetError::UnknownTarget => "unknown_target",
            TargetError::Unsupported => "unsupported",
        }
    }
}
