//! Error answers: an HTTP status and `{"error": {"code", "message"}}`.
//!
//! [`ErrorCode`] is the stable vocabulary clients match on (never the
//! message, which is for people and may change). Each code has exactly
//! one HTTP status, given by [`ErrorCode::http_status`]: the one place the
//! server maps errors to statuses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable, machine-readable reason for a refusal or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field's value is not acceptable (the message says which).
    BadRequest,
    /// The body is not JSON.
    MalformedJson,
    /// The answers do not fit the challenge (an answer to a question that
    /// was not asked).
    AnswersMismatch,
    /// An unknown API user, a wrong password or a refused client address:
    /// one answer for all three.
    InvalidCredentials,
    InvalidSession,
    SessionExpired,
    /// A spent session ID was presented again, or one from another
    /// address: the whole session is ended.
    SessionRevoked,
    /// The user was not verified in this session.
    NotVerified,
    /// The user proved some factors in this session, but the verification
    /// policy needs more for this operation (the message names them).
    VerificationIncomplete,
    /// The factor asked for is not one the person has enrolled (or not
    /// one this server offers).
    FactorUnavailable,
    /// The voice-OTP destination guard refused the number.
    DestinationRefused,
    UnknownUser,
    UnknownChallenge,
    UnknownAccount,
    UnknownCall,
    /// No such enrolment by phone open in this session.
    UnknownEnrolment,
    /// No such path.
    NotFound,
    MethodNotAllowed,
    /// The challenge was already answered correctly.
    ChallengeUsed,
    NotEnrolled,
    /// The person's answers are older than the policy allows: they must
    /// confirm them in the portal first.
    ReconfirmRequired,
    NoAccounts,
    /// The targets' password policies cannot all be met at once.
    PolicyConflict,
    Conflict,
    ChallengeExpired,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The body is JSON but does not fit the request (a missing, unknown
    /// or mistyped field).
    InvalidRequest,
    /// The password breaks a policy (the message lists how).
    PasswordPolicy,
    /// An answer to enrol is too weak (the message says why).
    WeakAnswer,
    /// The `Idempotency-Key` was used before for a different request.
    #[serde(rename = "idempotency_key_reused")]
    IdempotencyConflict,
    /// The user is locked out after too many failed verifications.
    UserLocked,
    /// Too many failed logins.
    Throttled,
    /// A voice-OTP rate limit.
    RateLimited,
    Internal,
    /// The database cannot be reached or is overloaded; try again.
    Unavailable,
    DirectoryUnavailable,
}

impl ErrorCode {
    /// The stable string, as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::AnswersMismatch => "answers_mismatch",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidSession => "invalid_session",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::NotVerified => "not_verified",
            ErrorCode::VerificationIncomplete => "verification_incomplete",
            ErrorCode::FactorUnavailable => "factor_unavailable",
            ErrorCode::DestinationRefused => "destination_refused",
            ErrorCode::UnknownUser => "unknown_user",
            ErrorCode::UnknownChallenge => "unknown_challenge",
            ErrorCode::UnknownAccount => "unknown_account",
            ErrorCode::UnknownCall => "unknown_call",
            ErrorCode::UnknownEnrolment => "unknown_enrolment",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::ChallengeUsed => "challenge_used",
            ErrorCode::NotEnrolled => "not_enrolled",
            ErrorCode::ReconfirmRequired => "reconfirm_required",
            ErrorCode::NoAccounts => "no_accounts",
            ErrorCode::PolicyConflict => "policy_conflict",
            ErrorCode::Conflict => "conflict",
            ErrorCode::ChallengeExpired => "challenge_expired",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::PasswordPolicy => "password_policy",
            ErrorCode::WeakAnswer => "weak_answer",
            ErrorCode::IdempotencyConflict => "idempotency_key_reused",
            ErrorCode::UserLocked => "user_locked",
            ErrorCode::Throttled => "throttled",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::DirectoryUnavailable => "directory_unavailable",
        }
    }

    /// The HTTP status every answer with this code has.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::MalformedJson | ErrorCode::AnswersMismatch => 400,
            ErrorCode::InvalidCredentials
            | ErrorCode::InvalidSession
            | ErrorCode::SessionExpired
            | ErrorCode::SessionRevoked => 401,
            ErrorCode::NotVerified
            | ErrorCode::VerificationIncomplete
            | ErrorCode::DestinationRefused => 403,
            ErrorCode::UnknownUser
            | ErrorCode::UnknownChallenge
            | ErrorCode::UnknownAccount
            | ErrorCode::UnknownCall
            | ErrorCode::UnknownEnrolment
            | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::ChallengeUsed
            | ErrorCode::FactorUnavailable
            | ErrorCode::NotEnrolled
            | ErrorCode::ReconfirmRequired
            | ErrorCode::NoAccounts
            | ErrorCode::PolicyConflict
            | ErrorCode::Conflict => 409,
            ErrorCode::ChallengeExpired => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::InvalidRequest
            | ErrorCode::PasswordPolicy
            | ErrorCode::WeakAnswer
            | ErrorCode::IdempotencyConflict => 422,
            ErrorCode::UserLocked => 423,
            ErrorCode::Throttled | ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable | ErrorCode::DirectoryUnavailable => 503,
        }
    }

    /// The code for its wire string; `None` for a code this version does
    /// not know (a newer server's).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_session`. A client
    /// should treat a code it does not know like `internal`.
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: code.as_str().to_owned(),
                message: message.into(),
            },
        }
    }

    /// The code, when this version knows it.
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.error.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorCode; 37] = [
        ErrorCode::BadRequest,
        ErrorCode::MalformedJson,
        ErrorCode::AnswersMismatch,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidSession,
        ErrorCode::SessionExpired,
        ErrorCode::SessionRevoked,
        ErrorCode::NotVerified,
        ErrorCode::VerificationIncomplete,
        ErrorCode::FactorUnavailable,
        ErrorCode::DestinationRefused,
        ErrorCode::UnknownUser,
        ErrorCode::UnknownChallenge,
        ErrorCode::UnknownAccount,
        ErrorCode::UnknownCall,
        ErrorCode::UnknownEnrolment,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::ChallengeUsed,
        ErrorCode::NotEnrolled,
        ErrorCode::ReconfirmRequired,
        ErrorCode::NoAccounts,
        ErrorCode::PolicyConflict,
        ErrorCode::Conflict,
        ErrorCode::ChallengeExpired,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidRequest,
        ErrorCode::PasswordPolicy,
        ErrorCode::WeakAnswer,
        ErrorCode::IdempotencyConflict,
        ErrorCode::UserLocked,
        ErrorCode::Throttled,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::DirectoryUnavailable,
    ];

    #[test]
    fn every_code_round_trips_through_its_wire_string() {
        for code in ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, serde_json::Value::String(code.as_str().into()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
        assert_eq!(ErrorCode::parse("a_code_from_the_future"), None);
    }

    #[test]
    fn an_error_body_keeps_a_code_it_does_not_know() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"brand_new","message":"m"}}"#).unwrap();
        assert_eq!(body.code(), None);
        assert_eq!(body.error.code, "brand_new");
        let locked = ErrorBody::new(ErrorCode::UserLocked, "locked");
        assert_eq!(
            serde_json::to_string(&locked).unwrap(),
            r#"{"error":{"code":"user_locked","message":"locked"}}"#
        );
        assert_eq!(locked.code(), Some(ErrorCode::UserLocked));
    }
}
