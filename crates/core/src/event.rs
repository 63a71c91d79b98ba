//! Events delivered to event actions (webhooks, commands, files).
//!
//! The four `ET_ADMIN_*` names are the reference's; the others report what
//! an intrusion-detection system wants to hear about. An event carries an ID
//! that receivers use to drop duplicates: delivery is at least once.

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// The kinds of event an action can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A password was set on an account by `UserPasswordSync`.
    #[serde(rename = "ET_ADMIN_RESET_SUCCESS")]
    AdminResetSuccess,
    /// Setting a password on an account failed.
    #[serde(rename = "ET_ADMIN_RESET_FAILURE")]
    AdminResetFailure,
    /// An account was unlocked by `UserAccountsUnlock`.
    #[serde(rename = "ET_ADMIN_UNLOCK_SUCCESS")]
    AdminUnlockSuccess,
    /// Unlocking an account failed.
    #[serde(rename = "ET_ADMIN_UNLOCK_FAILURE")]
    AdminUnlockFailure,
    /// A caller gave wrong answers.
    #[serde(rename = "ET_VERIFY_FAILURE")]
    VerifyFailure,
    /// A person was locked out after too many wrong answers.
    #[serde(rename = "ET_INTRUDER_LOCKOUT")]
    IntruderLockout,
    /// An administrator cleared a person's intruder lockout.
    #[serde(rename = "ET_INTRUDER_LOCKOUT_CLEARED")]
    IntruderLockoutCleared,
    /// A person's enrolled answers changed (the portal, by phone, an import).
    #[serde(rename = "ET_ENROLMENT_CHANGED")]
    EnrolmentChanged,
    /// A person signed in to the self-service portal.
    #[serde(rename = "ET_PORTAL_SIGN_IN")]
    PortalSignIn,
    /// A person registered a phone number (after a call proved it).
    #[serde(rename = "ET_PHONE_ADDED")]
    PhoneAdded,
    /// A person removed a phone number they had registered.
    #[serde(rename = "ET_PHONE_REMOVED")]
    PhoneRemoved,
    /// A person set up an authenticator app (TOTP), confirmed with a code.
    #[serde(rename = "ET_AUTHENTICATOR_ADDED")]
    AuthenticatorAdded,
    /// A person removed their authenticator app.
    #[serde(rename = "ET_AUTHENTICATOR_REMOVED")]
    AuthenticatorRemoved,
    /// A person told a notification call that a reset, unlock or lockout
    /// was not them; they are locked for every door.
    #[serde(rename = "ET_SUSPECTED_FRAUD")]
    SuspectedFraud,
}

impl EventType {
    pub const ALL: [EventType; 14] = [
        EventType::AdminResetSuccess,
        EventType::AdminResetFailure,
        EventType::AdminUnlockSuccess,
        EventType::AdminUnlockFailure,
        EventType::VerifyFailure,
        EventType::IntruderLockout,
        EventType::IntruderLockoutCleared,
        EventType::EnrolmentChanged,
        EventType::PortalSignIn,
        EventType::PhoneAdded,
        EventType::PhoneRemoved,
        EventType::AuthenticatorAdded,
        EventType::AuthenticatorRemoved,
        EventType::SuspectedFraud,
    ];

    /// The wire name, e.g. `ET_ADMIN_RESET_SUCCESS`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::AdminResetSuccess => "ET_ADMIN_RESET_SUCCESS",
            EventType::AdminResetFailure => "ET_ADMIN_RESET_FAILURE",
            EventType::AdminUnlockSuccess => "ET_ADMIN_UNLOCK_SUCCESS",
            EventType::AdminUnlockFailure => "ET_ADMIN_UNLOCK_FAILURE",
            EventType::VerifyFailure => "ET_VERIFY_FAILURE",
            EventType::IntruderLockout => "ET_INTRUDER_LOCKOUT",
            EventType::IntruderLockoutCleared => "ET_INTRUDER_LOCKOUT_CLEARED",
            EventType::EnrolmentChanged => "ET_ENROLMENT_CHANGED",
            EventType::PortalSignIn => "ET_PORTAL_SIGN_IN",
            EventType::PhoneAdded => "ET_PHONE_ADDED",
            EventType::PhoneRemoved => "ET_PHONE_REMOVED",
            EventType::AuthenticatorAdded => "ET_AUTHENTICATOR_ADDED",
            EventType::AuthenticatorRemoved => "ET_AUTHENTICATOR_REMOVED",
            EventType::SuspectedFraud => "ET_SUSPECTED_FRAUD",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// One event. `detail` never holds a password, answer or token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique; receivers de-duplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub occurred_at: UnixMillis,
    /// The person concerned, when there is one.
    pub user_id: Option<String>,
    /// The API user (or `ivr`, `cli`) that caused it.
    pub actor: String,
    pub detail: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_from_name() {
        for t in EventType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.name()));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), t);
            assert_eq!(EventType::from_name(t.name()), Some(t));
        }
        assert_eq!(EventType::from_name("ET_NOPE"), None);
    }
}
