//! Request and response bodies of the remote API, with their OpenAPI
//! schemas. Requests refuse unknown fields, so a misspelt `acounts` is an
//! error rather than a reset of every account.

use serde::{Deserialize, Serialize};
use touchtone_core::secret::SecretString;
use touchtone_service::api::{
    AccountResult, AccountSelector, Answer, ChallengeQuestion, UserMatch,
};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The API user.
    pub user: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Every response of a session-bound call carries the next session ID.
#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    /// The one-time session ID to present on the next call.
    pub session: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub session: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIvrListRequest {
    pub session: String,
    /// The digits the caller keyed (E.161 mapping of their ID).
    #[schema(example = "576484")]
    pub ivr_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserEntry {
    pub user_id: String,
    pub display_name: String,
    pub department: String,
}

impl From<UserMatch> for UserEntry {
    fn from(m: UserMatch) -> Self {
        Self {
            user_id: m.user_id,
            display_name: m.display_name,
            department: m.department,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserIvrListResponse {
    pub session: String,
    /// Every match; several when IDs collide on the keypad.
    pub users: Vec<UserEntry>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub session: String,
    pub user_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserQuestionsGetRequest {
    pub session: String,
    pub user_id: String,
    /// The calling number as the IVR received it. When the server checks
    /// caller ID, a number that is not registered to the user (or none)
    /// adds one question.
    #[serde(default)]
    pub caller_number: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionEntry {
    pub question_id: String,
    pub text: String,
    pub max_digits: i64,
}

impl From<ChallengeQuestion> for QuestionEntry {
    fn from(q: ChallengeQuestion) -> Self {
        Self {
            question_id: q.question_id,
            text: q.text,
            max_digits: q.max_digits,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserQuestionsGetResponse {
    pub session: String,
    pub challenge_id: String,
    pub questions: Vec<QuestionEntry>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    pub question_id: String,
    /// The keyed digits (letters are mapped to digits too).
    #[schema(value_type = String, format = Password)]
    pub answer: SecretString,
}

impl From<AnswerEntry> for Answer {
    fn from(a: AnswerEntry) -> Self {
        Answer {
            question_id: a.question_id,
            answer: a.answer,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAnswersValidateRequest {
    pub session: String,
    pub challenge_id: String,
    pub answers: Vec<AnswerEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct UserAnswersValidateResponse {
    pub session: String,
    pub valid: bool,
    pub attempts_left: u32,
    pub locked: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordRandomGetResponse {
    pub session: String,
    pub password: String,
    /// One entry per character, to be read out: "capital Kilo", "seven", …
    pub spoken: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    pub account: String,
    /// Needed only when the account name exists on several targets.
    #[serde(default)]
    pub target: Option<String>,
}

impl From<AccountEntry> for AccountSelector {
    fn from(a: AccountEntry) -> Self {
        AccountSelector {
            account: a.account,
            target: a.target,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPasswordSyncRequest {
    pub session: String,
    pub user_id: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Only these accounts; all of the user's accounts when absent.
    #[serde(default)]
    pub accounts: Option<Vec<AccountEntry>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAccountsUnlockRequest {
    pub session: String,
    pub user_id: String,
    #[serde(default)]
    pub accounts: Option<Vec<AccountEntry>>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountResultEntry {
    pub account: String,
    pub target: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was_locked: Option<bool>,
}

impl From<AccountResult> for AccountResultEntry {
    fn from(r: AccountResult) -> Self {
        Self {
            account: r.account,
            target: r.target,
            ok: r.ok,
            error: r.error,
            message: r.message,
            was_locked: r.was_locked,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountsResponse {
    pub session: String,
    /// One entry per account acted on.
    pub results: Vec<AccountResultEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct LogoutResponse {
    pub ended: bool,
}
