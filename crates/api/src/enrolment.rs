//! Enrolling by phone with a one-time PIN, beside the eight functions:
//! `UserEnrolmentStart` (the PIN opens an enrolment), `UserEnrolmentCheck`
//! (would this answer be accepted?) and `UserEnrolmentSubmit` (store the
//! answers). Session-bound like the others: each presents the newest
//! session ID and returns the next.

use serde::{Deserialize, Serialize};
use touchtone_core::secret::SecretString;
use utoipa::ToSchema;

use crate::functions::AnswerEntry;
use crate::{reveal, reveal_all};

/// `UserEnrolmentStart`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEnrolmentStartRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
    /// The PIN the caller keyed (8 digits).
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub pin: SecretString,
}

/// A question the caller may enrol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentQuestion {
    pub question_id: String,
    pub text: String,
    pub min_digits: i64,
    pub max_digits: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserEnrolmentStartResponse {
    pub session: String,
    /// The PIN was right: an enrolment is open.
    pub accepted: bool,
    /// Further PINs this session may try for the user.
    pub attempts_left: u32,
    pub locked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_id: Option<String>,
    /// Answers to enrol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<EnrolmentQuestion>>,
}

/// `UserEnrolmentCheck`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEnrolmentCheckRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub enrolment_id: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub question_id: String,
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "reveal")]
    pub answer: SecretString,
    /// The answers already chosen in this enrolment, which this one must
    /// not repeat.
    #[schema(value_type = Vec<String>)]
    #[serde(default, serialize_with = "reveal_all")]
    pub earlier: Vec<SecretString>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserEnrolmentCheckResponse {
    pub session: String,
    /// The answer would be accepted.
    pub ok: bool,
    /// Why not: `too_short`, `too_long`, `one_digit_repeated`, `run`,
    /// `user_id`, `year_out_of_range`, `same_as_another`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak: Option<String>,
}

/// `UserEnrolmentSubmit`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEnrolmentSubmitRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub enrolment_id: String,
    pub answers: Vec<AnswerEntry>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserEnrolmentSubmitResponse {
    pub session: String,
    /// Answers enrolled.
    pub enrolled: usize,
}
