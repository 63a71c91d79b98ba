//! Factors beyond questions, beside the eight functions:
//! `UserFactorsGet` (what the person has set up and what the verification
//! policy still needs), `UserFactorChallenge` (ask for a factor) and
//! `UserFactorVerify` (the code the caller keyed). Session-bound like the
//! others. `UserPasswordSync` and `UserAccountsUnlock` answer 403
//! `verification_incomplete` until the policy is met.

use serde::{Deserialize, Serialize};
use touchtone_core::secret::SecretString;
use utoipa::ToSchema;

use crate::reveal;

/// `UserFactorsGet`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFactorsGetRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
}

/// Where the session stands for one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationFactors {
    /// `reset` or `unlock`.
    pub operation: String,
    /// The policy that decides (`default`: questions alone).
    pub policy: String,
    /// The policy is met: the operation may go ahead.
    pub met: bool,
    /// Groups still needed, each met by any one of its factors.
    pub missing: Vec<Vec<String>>,
    /// The person has not set up a factor still needed: transfer the
    /// caller to the helpdesk.
    pub unavailable: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserFactorsGetResponse {
    pub session: String,
    /// Factors the person has set up (`questions`, `totp`).
    pub enrolled: Vec<String>,
    /// Factors this session proved for the person.
    pub proved: Vec<String>,
    pub operations: Vec<OperationFactors>,
}

/// `UserFactorChallenge`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFactorChallengeRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub user_id: String,
    /// The factor to ask for: `totp`.
    #[schema(pattern = "^totp$")]
    pub factor: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserFactorChallengeResponse {
    pub session: String,
    pub challenge_id: String,
    pub factor: String,
    /// Digits the code has.
    pub digits: usize,
}

/// `UserFactorVerify`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFactorVerifyRequest {
    pub session: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub challenge_id: String,
    /// The code the caller keyed.
    #[schema(value_type = String, format = Password, max_length = 64)]
    #[serde(serialize_with = "reveal")]
    pub code: SecretString,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserFactorVerifyResponse {
    pub session: String,
    pub valid: bool,
    /// Further attempts this session may make for this user.
    pub attempts_left: u32,
    /// The user is locked out (now, or by this failure).
    pub locked: bool,
}
