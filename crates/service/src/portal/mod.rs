//! The self-service portal's use cases: a person signs in with their own
//! password, sees their status, and enrols their answers (and, later,
//! their phones). The web door (`touchtone-web`) renders pages and checks
//! form tokens; every rule is here.
//!
//! - [`sign_in`]: signing in (a bind as the person on their directory,
//!   or the local account's hash), throttled per address and per login,
//!   wrong passwords counted into the intruder lockout every door shares;
//!   the portal's sessions, re-authentication and signing out.
//! - [`status`]: what the status page shows: enrolment and what the
//!   policy still asks, phones, accounts, recent activity.
//! - [`answers`]: choosing questions and enrolling answers, refused with
//!   a reason when weak.
//! - [`phones`]: registering phone numbers, each proved by a voice-OTP
//!   call that asks for the code the page shows.
//! - [`authenticator`]: setting up an authenticator app (TOTP), by QR
//!   code, confirmed with one code.
//! - [`second_factor`]: the optional second sign-in step, the same kind
//!   of call to one of the person's numbers.
//!
//! A person acts only on themselves: every function takes the session's
//! token and finds the person from it, never a person ID from the page.

pub mod answers;
pub mod authenticator;
pub mod phones;
pub mod second_factor;
pub mod sign_in;
pub mod status;

pub use answers::{AnswerChoice, AnswerProblem, EnrolmentForm, FormQuestion};
pub use authenticator::{AuthenticatorView, PendingAuthenticator};
pub use phones::{PhoneProblem, PhoneProof, ProofState};
pub use second_factor::PendingSignIn;
pub use sign_in::{PortalSession, SignedIn};
pub use status::{Activity, PhoneNumber, PortalStatus};

use crate::ServiceError;

/// The door name the portal's attempts and activity carry.
pub const DOOR: &str = "portal";

/// Why a portal request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// An unknown person, a wrong password, a locked or a disabled person:
    /// one answer for all (the audit says which).
    #[error("the user ID or password is not right")]
    SignInRefused,
    /// Too many failed sign-ins for this login or from this address.
    #[error("too many failed sign-ins; wait a few minutes")]
    Throttled,
    /// The session has ended (signed out, timed out, or the person was
    /// locked meanwhile): sign in again.
    #[error("the session has ended; sign in again")]
    SessionEnded,
    /// The change needs the password again (the sign-in is not recent).
    #[error("enter your password again to make this change")]
    ReauthRequired,
    /// The form has problems, each with its field.
    #[error("the answers cannot be enrolled as they are")]
    Invalid(Vec<AnswerProblem>),
    /// A number cannot be proved.
    #[error("the number cannot be registered: {0:?}")]
    Phone(PhoneProblem),
    /// The sign-in waits for its second factor (the call to the person's
    /// phone): nothing else may be done with the session yet.
    #[error("the sign-in is not complete: answer the call first")]
    SecondFactorPending,
    /// The second factor is required and the person has no number to
    /// call: only the helpdesk can help.
    #[error("no phone number to confirm the sign-in with")]
    NoSecondFactor,
    /// No such thing of this person's (a proof of someone else, say).
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<touchtone_store::StoreError> for PortalError {
    fn from(e: touchtone_store::StoreError) -> Self {
        PortalError::Service(e.into())
    }
}

impl crate::Service {
    /// Records a change a person made in the portal, now, in the change's
    /// transaction: the event (with the door, the address and `detail`)
    /// and the audit row of `action`.
    pub(crate) async fn record_change(
        &self,
        tx: &mut touchtone_store::AnyConnection,
        caller: &crate::Caller,
        person_id: &str,
        event_type: touchtone_core::event::EventType,
        action: &str,
        mut detail: serde_json::Value,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        detail["door"] = DOOR.into();
        detail["ip"] = caller.ip.to_string().into();
        let event = crate::events::EventRouter::event(
            event_type,
            Some(person_id),
            DOOR,
            detail.clone(),
            now,
        );
        self.events().emit(tx, &event).await?;
        crate::session_gate::append_audit(tx, DOOR, action, person_id, "ok", detail, now).await
    }
}
