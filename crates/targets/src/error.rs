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
    /// What callers and events may be told: the message without the
    /// system's own diagnostic text (a database or directory error may name
    /// servers, DNs or internals), which belongs in the server's log only.
    /// A policy refusal keeps its reason: it tells the caller what to do.
    pub fn public_message(&self) -> String {
        match self {
            TargetError::Unavailable(_) => "the system cannot be reached".to_owned(),
            TargetError::Failed(_) => "the system reported an error".to_owned(),
            other => other.to_string(),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_messages_carry_no_internal_text() {
        let internal = "database error: pool timed out while waiting for an open connection";
        for e in [
            TargetError::Unavailable(internal.into()),
            TargetError::Failed(internal.into()),
        ] {
            assert!(!e.public_message().contains("pool"), "{e:?}");
            assert!(e.to_string().contains("pool"), "the log keeps it");
        }
        let policy = TargetError::PolicyRejected("too short".into());
        assert!(policy.public_message().contains("too short"));
    }
}
