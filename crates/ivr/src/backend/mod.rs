//! The flow's view of the use cases: a session per call, opened when the
//! call is answered and closed when it ends, whose one-time IDs are
//! rotated inside. [`InProcess`] calls the [`touchtone_service::Service`]
//! of this process through its own door ([`touchtone_service::Door::Ivr`]);
//! [`Remote`] calls this server's HTTPS remote API as any IVR platform
//! would, so the IVR can run at another site.
//!
//! Errors carry the service's stable [`ErrorCode`]s (`UserLocked`,
//! `NotEnrolled`, …) whichever way the call went, so the flow reacts to
//! them the same way for both.

mod in_process;
mod remote;

use std::net::IpAddr;

use async_trait::async_trait;
use touchtone_api::ErrorCode;
pub use touchtone_api::factors::OperationFactors;
use touchtone_core::secret::SecretString;
use touchtone_service::api::{
    AccountResult, Answer, ChallengeView, EnrolmentStart, RandomPassword, UserMatch, Validation,
};

pub use in_process::InProcess;
pub use remote::{Remote, RemoteSettings};

/// Who is calling, as far as the IVR knows.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub call_id: String,
    /// The peer's address (bound to the session like an API client's).
    pub peer_ip: IpAddr,
    /// The calling number (From's user part), as the trunk gave it.
    pub caller_number: Option<String>,
}

/// What `UserFactorsGet` said, as the flow needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorsNeeded {
    /// Factors the person has set up (`questions`, `totp`).
    pub enrolled: Vec<String>,
    pub operations: Vec<OperationFactors>,
}

impl FactorsNeeded {
    /// The state of `operation` (`reset`, `unlock`); an operation the
    /// server did not name needs nothing more.
    pub fn of(&self, operation: &str) -> Option<&OperationFactors> {
        self.operations.iter().find(|o| o.operation == operation)
    }
}

/// Why a backend call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The service refused or failed, with its stable code (the same
    /// whichever way the call went).
    #[error("{code}: {message}")]
    Service { code: ErrorCode, message: String },
    /// The remote API could not be reached or did not answer in time.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The remote API answered with something that is not the API's (or a
    /// code newer than this IVR).
    #[error("bad response: {0}")]
    BadResponse(String),
}

impl BackendError {
    /// The service's code, when the service gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            BackendError::Service { code, .. } => Some(*code),
            BackendError::Unreachable(_) | BackendError::BadResponse(_) => None,
        }
    }

    /// Whether the service refused with `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code() == Some(code)
    }

    /// Whether the session has ended (so no later call can use it).
    pub fn ends_session(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::InvalidSession | ErrorCode::SessionExpired | ErrorCode::SessionRevoked)
        )
    }
}

impl From<touchtone_service::ServiceError> for BackendError {
    fn from(e: touchtone_service::ServiceError) -> Self {
        BackendError::Service {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

#[async_trait]
pub trait Backend: Send + Sync {
    /// Starts the call's session.
    async fn open(&self, call: &CallContext) -> Result<Box<dyn BackendSession>, BackendError>;
}

/// One call's session; each method is the remote-API function of the
/// same meaning.
#[async_trait]
pub trait BackendSession: Send {
    /// `UserIVRList`.
    async fn find_users(&mut self, keypad_id: &str) -> Result<Vec<UserMatch>, BackendError>;
    /// `UserQuestionsGet`, with the caller ID for the caller-ID factor.
    async fn questions(
        &mut self,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<ChallengeView, BackendError>;
    /// `UserAnswersValidate`.
    async fn validate(
        &mut self,
        challenge_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Validation, BackendError>;
    /// `PasswordRandomGet`.
    async fn random_password(&mut self, user_id: &str) -> Result<RandomPassword, BackendError>;
    /// `UserPasswordSync` on all the user's accounts.
    async fn sync_password(
        &mut self,
        user_id: &str,
        password: SecretString,
    ) -> Result<Vec<AccountResult>, BackendError>;
    /// `UserAccountsUnlock` on all the user's accounts.
    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, BackendError>;
    /// `UserEnrolmentStart`: the enrolment PIN the caller keyed.
    async fn enrolment_start(
        &mut self,
        user_id: &str,
        pin: SecretString,
    ) -> Result<EnrolmentStart, BackendError>;
    /// `UserEnrolmentCheck`: `None` when `answer` would be accepted beside
    /// the `earlier` ones, else the reason's code (`too_short`, …).
    async fn enrolment_check(
        &mut self,
        enrolment_id: &str,
        question_id: &str,
        answer: SecretString,
        earlier: Vec<SecretString>,
    ) -> Result<Option<String>, BackendError>;
    /// `UserEnrolmentSubmit`: stores the answers; how many were enrolled.
    async fn enrolment_submit(
        &mut self,
        enrolment_id: &str,
        answers: Vec<Answer>,
    ) -> Result<usize, BackendError>;
    /// `UserFactorsGet`: what the person has set up, and per operation
    /// what the verification policy still needs.
    async fn factors(&mut self, user_id: &str) -> Result<FactorsNeeded, BackendError>;
    /// `UserFactorChallenge`: asks for `factor`; the challenge ID.
    async fn factor_challenge(
        &mut self,
        user_id: &str,
        factor: &str,
    ) -> Result<String, BackendError>;
    /// `UserFactorVerify`: the code keyed for a factor challenge.
    async fn factor_verify(
        &mut self,
        challenge_id: &str,
        code: SecretString,
    ) -> Result<Validation, BackendError>;
    /// `Logout`; failures are logged, not returned (the call is over).
    async fn close(&mut self);
}
