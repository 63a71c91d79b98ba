//! Voice-OTP bodies: `POST /api/v1/calls` and its status documents, the
//! list filters of `GET /api/v1/calls`, and the reference's
//! `/outbound.cgi` answer.

use serde::{Deserialize, Serialize};
use touchtone_core::secret::SecretString;
use utoipa::{IntoParams, ToSchema};

use crate::reveal;

/// What the callee is asked to do with the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallMode {
    /// The code is read to the callee.
    Speak,
    /// The callee keys in the code shown to them.
    Verify,
}

/// `POST /api/v1/calls`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCallRequest {
    /// The number to call: E.164 (`+923001234567`) or national form in the
    /// configured default region. A number that cannot exist, or that the
    /// destination guard refuses, is refused (400, 403).
    #[schema(min_length = 1, max_length = 40, example = "+923001234567")]
    pub to: String,
    /// Digits only, up to 20.
    #[schema(value_type = String, pattern = "^[0-9]{1,20}$")]
    #[serde(serialize_with = "reveal")]
    pub code: SecretString,
    /// `speak` (default) reads the code; `verify` asks the callee to key it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CallMode>,
    /// One of the server's languages (the document served lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Readings of the code per playing, 1 to the server's maximum (the
    /// document served says it).
    #[schema(minimum = 1)]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "integral"
    )]
    pub repeat: Option<u32>,
    /// Status changes are POSTed here, signed: an https URL of a public
    /// host, when the server has callbacks configured (else 400).
    #[schema(max_length = 2000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// A whole number as JSON may write it: `2` or `2.0` (JSON Schema's
/// `integer` takes both, and so do we), within `u32`.
fn integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let whole = match (number.as_u64(), number.as_f64()) {
        (Some(n), _) => Some(n),
        (None, Some(f)) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => {
            // Checked above: whole and in range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(f as u64)
        }
        _ => None,
    };
    whole
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom("expected a whole number from 0 to 4294967295"))
}

/// `202 Accepted`: the call is queued (committed to the database).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CallAccepted {
    pub call_id: String,
    pub status: String,
}

/// One status change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    pub status: String,
    /// Unix time in milliseconds.
    pub at: i64,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// The call detail record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CallRecord {
    pub destination: String,
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub sip_status: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub code_played: i64,
    /// Verify mode: each try, its length and whether it was right.
    #[schema(value_type = Vec<Object>)]
    pub entries: serde_json::Value,
    /// The code masked (`*****3`).
    pub code: String,
}

/// A call's status, with its record (and history, for one call).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CallStatus {
    pub call_id: String,
    pub status: String,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub mode: String,
    pub language: String,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub record: CallRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryItem>>,
}

/// `GET /api/v1/calls`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CallList {
    pub calls: Vec<CallStatus>,
}

/// `GET /api/v1/calls` filters.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only calls in this status (`queued`, `answered`, `verified`, …).
    #[param(
        pattern = "^(queued|dialing|ringing|answered|code-played|verified|wrong-code|no-code|hung-up|heard|not-me|no-key|busy|no-answer|declined|cancelled|invalid-number|auth-failed|failed|expired|interrupted)$"
    )]
    pub status: Option<String>,
    /// Only calls to this number (E.164, or national form in the default
    /// region); a number that cannot exist matches no call.
    #[param(pattern = r"^\+?[0-9]{1,15}$")]
    pub to: Option<String>,
    /// Created at or after (Unix ms).
    pub since: Option<i64>,
    /// Created before (Unix ms).
    pub until: Option<i64>,
    /// Paging: created before this (the last `created_at` of a page).
    pub before: Option<i64>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The reference's `/outbound.cgi` answer, for every status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LegacyAnswer {
    /// The HTTP status as a string (`"200"`).
    pub response_code: String,
    pub response_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// What was wrong, for a person (not in the reference; clients ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LegacyAnswer {
    /// The answer for `status`, with the reference's descriptions.
    pub fn new(status: u16, call_id: Option<String>, error: Option<String>) -> LegacyAnswer {
        let description = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        };
        LegacyAnswer {
            response_code: status.to_string(),
            response_description: description.to_owned(),
            call_id,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(body: &str) -> Result<Option<u32>, String> {
        serde_json::from_str::<CreateCallRequest>(body)
            .map(|r| r.repeat)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn repeat_takes_whole_numbers_however_json_writes_them() {
        let body = |r: &str| format!(r#"{{"to":"+4930123456","code":"1234","repeat":{r}}}"#);
        assert_eq!(repeat(&body("2")), Ok(Some(2)));
        assert_eq!(repeat(&body("2.0")), Ok(Some(2)));
        assert_eq!(repeat(&body("null")), Ok(None));
        assert_eq!(repeat(r#"{"to":"+4930123456","code":"1234"}"#), Ok(None));
        for refused in ["2.5", "-1", "4294967296", "1e10", "\"2\""] {
            assert!(repeat(&body(refused)).is_err(), "{refused}");
        }
    }
}
