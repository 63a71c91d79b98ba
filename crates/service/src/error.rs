//! The service's errors. Each has a stable `code` that API clients match
//! on; the HTTP layer maps variants to status codes in one place. Messages
//! are safe to show: no secrets, and nothing an unauthenticated caller
//! could use to learn whether a person or API user exists.

use touchtone_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the API user, password or client address is not accepted")]
    InvalidCredentials,
    #[error("too many failed logins; try again later")]
    Throttled,
    #[error("the session ID is not valid")]
    InvalidSession,
    #[error("the session has expired or ended")]
    SessionExpired,
    #[error("that session ID was already used; the session is revoked")]
    SessionRevoked,
    #[error("no such user")]
    UnknownUser,
    #[error("no such challenge in this session")]
    UnknownChallenge,
    #[error("the challenge has expired; ask for new questions")]
    ChallengeExpired,
    #[error("the challenge was already answered correctly")]
    ChallengeUsed,
    #[error("{0}")]
    AnswersMismatch(String),
    #[error("the user has no enrolled questions")]
    NotEnrolled,
    #[error("the user is locked out after too many failed verifications")]
    UserLocked,
    #[error("the user has not been verified in this session")]
    NotVerified,
    #[error("the user has no account {0}")]
    UnknownAccount(String),
    #[error("the user has no accounts to act on")]
    NoAccounts,
    #[error("the password does not meet the policy: {}", .0.join("; "))]
    PasswordPolicy(Vec<String>),
    #[error("{0}")]
    PolicyConflict(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] StoreError),
    #[error("{0}")]
    DirectoryUnavailable(String),
    #[error("internal error")]
    Internal(String),
    #[error("{0}")]
    DestinationRefused(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("this idempotency key was used for a different request")]
    IdempotencyConflict,
    #[error("no such call")]
    UnknownCall,
}

impl ServiceError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::InvalidCredentials => "invalid_credentials",
            ServiceError::Throttled => "throttled",
            ServiceError::InvalidSession => "invalid_session",
            ServiceError::SessionExpired => "session_expired",
            ServiceError::SessionRevoked => "session_revoked",
            ServiceError::UnknownUser => "unknown_user",
            ServiceError::UnknownChallenge => "unknown_challenge",
            ServiceError::ChallengeExpired => "challenge_expired",
            ServiceError::ChallengeUsed => "challenge_used",
            ServiceError::AnswersMismatch(_) => "answers_mismatch",
            ServiceError::NotEnrolled => "not_enrolled",
            ServiceError::UserLocked => "user_locked",
            ServiceError::NotVerified => "not_verified",
            ServiceError::UnknownAccount(_) => "unknown_account",
            ServiceError::NoAccounts => "no_accounts",
            ServiceError::PasswordPolicy(_) => "password_policy",
            ServiceError::PolicyConflict(_) => "policy_conflict",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::DirectoryUnavailable(_) => "directory_unavailable",
            ServiceError::Internal(_) => "internal",
            ServiceError::DestinationRefused(_) => "destination_refused",
            ServiceError::RateLimited(_) => "rate_limited",
            ServiceError::IdempotencyConflict => "idempotency_key_reused",
            ServiceError::UnknownCall => "unknown_call",
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ServiceError::Unavailable(e)
    }
}
