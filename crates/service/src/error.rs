//! The service's errors. Each has a stable [`ErrorCode`] (from the wire
//! crate, `touchtone-api`) that every door reports and API clients match
//! on; the code fixes the HTTP status. Messages
//! are safe to show: no secrets, and nothing an unauthenticated caller
//! could use to learn whether a person or API user exists.

use touchtone_api::ErrorCode;
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
    #[error("the user's answers are too old; they must confirm them in the portal")]
    ReconfirmRequired,
    #[error("{0}")]
    WeakAnswer(String),
    #[error("no such enrolment in this session")]
    UnknownEnrolment,
    #[error("the user is locked out after too many failed verifications")]
    UserLocked,
    #[error("the user has not been verified in this session")]
    NotVerified,
    /// The factors still missing, as the policy names them.
    #[error("the verification policy also needs: {}", .0.join(", "))]
    VerificationIncomplete(Vec<String>),
    #[error("{0}")]
    FactorUnavailable(String),
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
    /// The stable machine-readable code (which also fixes the HTTP
    /// status: [`ErrorCode::http_status`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::BadRequest(_) => ErrorCode::BadRequest,
            ServiceError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ServiceError::Throttled => ErrorCode::Throttled,
            ServiceError::InvalidSession => ErrorCode::InvalidSession,
            ServiceError::SessionExpired => ErrorCode::SessionExpired,
            ServiceError::SessionRevoked => ErrorCode::SessionRevoked,
            ServiceError::UnknownUser => ErrorCode::UnknownUser,
            ServiceError::UnknownChallenge => ErrorCode::UnknownChallenge,
            ServiceError::ChallengeExpired => ErrorCode::ChallengeExpired,
            ServiceError::ChallengeUsed => ErrorCode::ChallengeUsed,
            ServiceError::AnswersMismatch(_) => ErrorCode::AnswersMismatch,
            ServiceError::NotEnrolled => ErrorCode::NotEnrolled,
            ServiceError::ReconfirmRequired => ErrorCode::ReconfirmRequired,
            ServiceError::WeakAnswer(_) => ErrorCode::WeakAnswer,
            ServiceError::UnknownEnrolment => ErrorCode::UnknownEnrolment,
            ServiceError::UserLocked => ErrorCode::UserLocked,
            ServiceError::NotVerified => ErrorCode::NotVerified,
            ServiceError::VerificationIncomplete(_) => ErrorCode::VerificationIncomplete,
            ServiceError::FactorUnavailable(_) => ErrorCode::FactorUnavailable,
            ServiceError::UnknownAccount(_) => ErrorCode::UnknownAccount,
            ServiceError::NoAccounts => ErrorCode::NoAccounts,
            ServiceError::PasswordPolicy(_) => ErrorCode::PasswordPolicy,
            ServiceError::PolicyConflict(_) => ErrorCode::PolicyConflict,
            ServiceError::Conflict(_) => ErrorCode::Conflict,
            ServiceError::Unavailable(_) => ErrorCode::Unavailable,
            ServiceError::DirectoryUnavailable(_) => ErrorCode::DirectoryUnavailable,
            ServiceError::Internal(_) => ErrorCode::Internal,
            ServiceError::DestinationRefused(_) => ErrorCode::DestinationRefused,
            ServiceError::RateLimited(_) => ErrorCode::RateLimited,
            ServiceError::IdempotencyConflict => ErrorCode::IdempotencyConflict,
            ServiceError::UnknownCall => ErrorCode::UnknownCall,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ServiceError::Unavailable(e)
    }
}
