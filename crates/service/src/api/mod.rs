//! The eight remote-API functions, cut by concept:
//!
//! - `credentials`: checking an API user's name and password (for `Login`
//!   and the voice-OTP doors), throttled.
//! - `login`: `Login`, the built-in IVR's sessions, `Logout`.
//! - `lookup`: `UserIVRList`, who matches the keyed digits.
//! - `verification`: `UserQuestionsGet` and `UserAnswersValidate`.
//! - `password`: `PasswordRandomGet` and the policy a new password meets.
//! - `accounts`: the account operations, `UserPasswordSync` and
//!   `UserAccountsUnlock`, with their durable per-account record.
//! - `enrolment`: enrolling by phone with a one-time PIN
//!   (`UserEnrolmentStart`, `UserEnrolmentCheck`, `UserEnrolmentSubmit`).
//!
//! Each session-bound function spends the presented session ID and returns
//! its result with the next one ([`Rotated`]); the gate that does so is
//! `session_gate`, and who a person is and whether they are locked is
//! [`crate::people`].

mod accounts;
pub(crate) mod credentials;
mod enrolment;
mod interrupted;
mod login;
mod lookup;
mod password;
mod verification;

use touchtone_core::session_token::SessionToken;

pub use accounts::{AccountResult, AccountSelector};
pub use credentials::ApiUserInfo;
pub use enrolment::{EnrolmentOffer, EnrolmentStart, OfferedQuestion, PIN_DIGITS};
pub use login::BUILTIN_IVR;
pub use lookup::UserMatch;
pub use password::RandomPassword;
pub use verification::{Answer, ChallengeQuestion, ChallengeView, Validation};

/// A call's result and the session ID to present next.
#[derive(Debug)]
pub struct Rotated<T> {
    pub value: T,
    pub session: SessionToken,
}

/// Turns an empty or over-long identifier into a clear error before it
/// reaches the store.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), crate::ServiceError> {
    if value.is_empty() || value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(crate::ServiceError::BadRequest(format!(
            "{field} must be 1 to 256 printable characters"
        )));
    }
    Ok(())
}
