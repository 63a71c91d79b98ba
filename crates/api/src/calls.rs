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
    /// configured default region.
    pub to: String,
    /// Digits only, up to 20.
    #[schema(value_type = String)]
    #[serde(serialize_with = "reveal")]
    pub code: SecretString,
    /// `speak` (default) reads the code; `verify` asks the callee to key it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CallMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Readings of the code per playing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Status changes are POSTed here, signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
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
    #[schema(value_type = Object)]
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
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub status: Option<String>,
    pub to: Option<String>,
    /// Created at or after (Unix ms).
    pub since: Option<i64>,
    /// Created before (Unix ms).
    pub until: Option<i64>,
    /// Paging: created before this (the last `created_at` of a page).
    pub before: Option<i64>,
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
}

/// The reference's `/outbound.cgi` answer, for every status.
#[derive(Debug, Serialize, Deserialize)]
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
