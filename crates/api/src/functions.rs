//! Request and response bodies of the eight remote-API functions, as
//! `POST /api/v1/<Function>` takes and gives them.
//!
//! Every function but `Login` presents the newest one-time session ID in
//! `session` and, when it succeeds, gets the next one back in its
//! response's `session`.

use serde::{Deserialize, Serialize};
use touchtone_core::secret::SecretString;
use utoipa::ToSchema;

use crate::reveal;

/// `Login`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The API user.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user: String,
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub password: SecretString,
}

/// `Login`'s answer: the first session ID.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// The one-time session ID to present on the next call.
    pub session: String,
}

/// `Logout`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub session: String,
}

/// `UserIVRList`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIvrListRequest {
    pub session: String,
    /// The digits the caller keyed (E.161 mapping of their ID).
    #[schema(example = "576484", pattern = "^[0-9]{1,64}$")]
    pub ivr_id: String,
}

/// One person whose keypad ID matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserEntry {
    pub user_id: String,
    pub display_name: String,
    pub department: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserIvrListResponse {
    pub session: String,
    /// Every match; several when IDs collide on the keypad.
    pub users: Vec<UserEntry>,
}

/// `PasswordRandomGet`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
}

/// `UserQuestionsGet`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserQuestionsGetRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
    /// The calling number as the IVR received it. When the server checks
    /// caller ID, a number that is not registered to the user (or none)
    /// adds one question.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_number: Option<String>,
}

/// One question of a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuestionEntry {
    pub question_id: String,
    pub text: String,
    pub max_digits: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserQuestionsGetResponse {
    pub session: String,
    pub challenge_id: String,
    pub questions: Vec<QuestionEntry>,
}

/// One keyed answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub question_id: String,
    /// The keyed digits (letters are mapped to digits too).
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub answer: SecretString,
}

/// `UserAnswersValidate`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAnswersValidateRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub challenge_id: String,
    pub answers: Vec<AnswerEntry>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserAnswersValidateResponse {
    pub session: String,
    pub valid: bool,
    /// Further attempts this session may make for this user.
    pub attempts_left: u32,
    /// The user is locked out (now, or by this failure).
    pub locked: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordRandomGetResponse {
    pub session: String,
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub password: SecretString,
    /// One entry per character, to be read out: "capital Kilo", "seven", …
    pub spoken: Vec<String>,
}

/// Names one account of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    pub account: String,
    /// Needed only when the account name exists on several targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `UserPasswordSync`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPasswordSyncRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub password: SecretString,
    /// Only these accounts; all of the user's accounts when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountEntry>>,
}

/// `UserAccountsUnlock`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAccountsUnlockRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
    /// Only these accounts; all of the user's accounts when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountEntry>>,
}

/// The outcome on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountResultEntry {
    pub account: String,
    pub target: String,
    pub ok: bool,
    /// A stable code (`no_such_account`, `policy_rejected`, `timeout`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to tell the user about a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For unlocks: false when the account was not locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was_locked: Option<bool>,
}

/// `UserPasswordSync`'s and `UserAccountsUnlock`'s answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountsResponse {
    pub session: String,
    /// One entry per account acted on.
    pub results: Vec<AccountResultEntry>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogoutResponse {
    pub ended: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchtone_core::secret::ExposeSecret;

    #[test]
    fn secrets_go_out_in_clear_and_come_back_as_secrets() {
        let request = LoginRequest {
            user: "ivr".into(),
            password: SecretString::from("pw-123456789".to_owned()),
        };
        let wire = serde_json::to_string(&request).unwrap();
        assert_eq!(wire, r#"{"user":"ivr","password":"pw-123456789"}"#);
        let back: LoginRequest = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.password.expose_secret(), "pw-123456789");
        assert!(!format!("{back:?}").contains("pw-123456789"));
    }

    #[test]
    fn requests_refuse_unknown_fields_and_omit_absent_options() {
        let misspelt = r#"{"session":"s","user_id":"u","acounts":[]}"#;
        assert!(serde_json::from_str::<UserAccountsUnlockRequest>(misspelt).is_err());
        let all = UserAccountsUnlockRequest {
            session: "s".into(),
            user_id: "u".into(),
            accounts: None,
        };
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"{"session":"s","user_id":"u"}"#
        );
    }
}
