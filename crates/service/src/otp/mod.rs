//! Voice OTP: an API user asks for a number to be called and a code spoken
//! (or keyed in by the callee); the call is queued durably and placed by a
//! worker (in the `ivr` crate), which reports each status change here.
//!
//! - [`accept`]: the rules a request passes before it is written: the
//!   number (E.164 with a default region), the code, the destination guard
//!   and the rate limits, idempotency keys.
//! - [`lifecycle`]: what the worker calls: lease due calls, progress,
//!   retry or finish them, keep leases fresh, and sweep calls a crashed node
//!   left behind. Every status change is one transaction with its history
//!   row, its callback (through the outbox) and, when final, its audit row.
//! - [`query`]: the status and call detail record an API user may read.
//!
//! The code lives in the store only while the call needs it: it is set to
//! NULL with the final status, and never written to a log, an event or the
//! audit chain (those carry the masked form).

pub mod accept;
pub mod lifecycle;
pub mod query;

use touchtone_core::otp::{DestinationGuard, DialPlan};
use touchtone_core::phone::Region;

pub use accept::{Accepted, OtpMode, OtpRequest};
pub use lifecycle::{CALLBACK_ACTION, CallReport, LeasedCall, Outcome};
pub use query::{CallDetail, CallView, ListQuery, StatusChange};

/// A count allowed within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window_ms: i64,
}

#[derive(Debug, Clone)]
pub struct OtpSettings {
    /// Region whose national numbers (`033…` in PK) are understood.
    pub default_region: Option<Region>,
    pub guard: DestinationGuard,
    pub dial_plan: DialPlan,
    /// The caller ID sent with OTP calls (else the trunk's).
    pub caller_id: Option<String>,
    /// Calls to one number, from every API user.
    pub per_number: RateLimit,
    /// Calls one API user may ask for in a short window.
    pub per_api_user: RateLimit,
    /// Calls one API user may ask for in 24 hours.
    pub daily_per_api_user: u32,
    /// Dial attempts per call (busy and no answer are retried).
    pub max_attempts: u32,
    pub retry_delay_ms: i64,
    /// After this, a queued code is not worth calling with any more.
    pub expiry_ms: i64,
    /// How often the code is said in one playing, unless asked otherwise.
    pub default_repeats: u32,
    pub max_repeats: u32,
    /// Languages there are prompts for; the first is the default.
    pub languages: Vec<String>,
    /// Whether callbacks can be delivered (a signing secret is set).
    pub callbacks: bool,
    /// Whether `http://` callback URLs are accepted (else `https://` only).
    pub callback_allow_http: bool,
    /// Whether callback URLs may name loopback, private or link-local
    /// addresses (else only public ones: no SSRF into the server's network).
    pub callback_allow_private: bool,
}

impl Default for OtpSettings {
    fn default() -> Self {
        Self {
            default_region: None,
            guard: DestinationGuard {
                allowed_prefixes: Vec::new(),
                allow_premium: false,
            },
            dial_plan: DialPlan::default(),
            caller_id: None,
            per_number: RateLimit {
                max: 3,
                window_ms: 10 * 60 * 1000,
            },
            per_api_user: RateLimit {
                max: 60,
                window_ms: 60 * 1000,
            },
            daily_per_api_user: 5000,
            max_attempts: 2,
            retry_delay_ms: 30 * 1000,
            expiry_ms: 10 * 60 * 1000,
            default_repeats: 2,
            max_repeats: 5,
            languages: vec!["en".to_owned()],
            callbacks: false,
            callback_allow_http: false,
            callback_allow_private: false,
        }
    }
}

/// Statuses a call can end in.
pub const FINAL_STATUSES: &[&str] = &[
    "code-played",
    "verified",
    "wrong-code",
    "no-code",
    "hung-up",
    "heard",
    "not-me",
    "no-key",
    "busy",
    "no-answer",
    "declined",
    "cancelled",
    "invalid-number",
    "auth-failed",
    "failed",
    "expired",
    "interrupted",
];

/// Statuses a call passes on its way.
pub const PROGRESS_STATUSES: &[&str] = &["queued", "dialing", "ringing", "answered"];
