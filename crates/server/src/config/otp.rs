//! The `[otp]` section: voice-OTP calls (`/outbound.cgi`, `/api/v1/calls`),
//! placed through `[sip]`'s trunk.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use touchtone_core::otp::{DestinationGuard, DialPlan};
use touchtone_core::phone::Region;
use touchtone_core::secret::SecretString;
use touchtone_ivr::otp::{OtpFlowSettings, WorkerSettings};
use touchtone_service::otp::{OtpSettings, RateLimit};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtpConfig {
    /// ISO 3166 region for numbers written nationally (`033…` with `PK`).
    pub default_region: Option<String>,
    /// E.164 prefixes calls may go to (`"+92"`, `"+1"`; `"+"`: anywhere).
    /// Empty: no calls at all.
    pub allowed_prefixes: Vec<String>,
    /// Call premium-rate and shared-cost numbers (refused by default).
    pub allow_premium: bool,
    /// Caller ID of OTP calls; the trunk's by default.
    pub caller_id: Option<String>,
    /// Rewrites for the trunk, first match wins: `{ from = "+92", to = "0092" }`.
    pub dial_plan: Vec<DialRule>,
    pub per_number_max: u32,
    pub per_number_window_secs: u64,
    pub per_api_user_max: u32,
    pub per_api_user_window_secs: u64,
    pub daily_per_api_user: u32,
    /// Dial attempts per call: busy and no answer are retried.
    pub max_attempts: u32,
    pub retry_delay_secs: u64,
    /// A code not delivered by then is not called with any more.
    pub expiry_secs: u64,
    /// Readings of the code per playing, unless the request says.
    pub repeats: u32,
    pub max_repeats: u32,
    /// Tries to key the code in verify mode.
    pub verify_attempts: u32,
    /// Calls in progress at once on this node.
    pub max_concurrent: usize,
    pub ring_timeout_secs: u64,
    pub max_call_secs: u64,
    /// A node that stops renewing its calls' leases this long is taken for
    /// dead; its calls end as `interrupted`.
    pub lease_secs: u64,
    /// The HMAC key callbacks are signed with; without it, requests with a
    /// `callback_url` are refused.
    pub callback_secret_file: Option<PathBuf>,
    /// Accept `http://` callback URLs (else `https://` only).
    pub callback_allow_http: bool,
    /// Let callback URLs reach loopback, private and link-local addresses
    /// (else public addresses only, so an API user cannot make the server
    /// POST into its own network).
    pub callback_allow_private_addresses: bool,
    pub callback_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialRule {
    pub from: String,
    pub to: String,
}

impl Default for OtpConfig {
    fn default() -> Self {
        let service = OtpSettings::default();
        let worker = WorkerSettings::default();
        let flow = OtpFlowSettings::default();
        Self {
            default_region: None,
            allowed_prefixes: Vec::new(),
            allow_premium: false,
            caller_id: None,
            dial_plan: Vec::new(),
            per_number_max: service.per_number.max,
            per_number_window_secs: ms_to_secs(service.per_number.window_ms),
            per_api_user_max: service.per_api_user.max,
            per_api_user_window_secs: ms_to_secs(service.per_api_user.window_ms),
            daily_per_api_user: service.daily_per_api_user,
            max_attempts: service.max_attempts,
            retry_delay_secs: ms_to_secs(service.retry_delay_ms),
            expiry_secs: ms_to_secs(service.expiry_ms),
            repeats: service.default_repeats,
            max_repeats: service.max_repeats,
            verify_attempts: flow.verify_attempts,
            max_concurrent: worker.max_concurrent,
            ring_timeout_secs: 30,
            max_call_secs: worker.max_call.as_secs(),
            lease_secs: worker.lease.as_secs(),
            callback_secret_file: None,
            callback_allow_http: false,
            callback_allow_private_addresses: false,
            callback_timeout_secs: 10,
        }
    }
}

fn ms_to_secs(ms: i64) -> u64 {
    u64::try_from(ms / 1000).unwrap_or(0)
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

impl OtpConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(region) = &self.default_region {
            region
                .parse::<Region>()
                .map_err(|e| anyhow::anyhow!("otp.default_region: {e}"))?;
        }
        for prefix in &self.allowed_prefixes {
            if !prefix.starts_with('+') || !prefix[1..].bytes().all(|b| b.is_ascii_digit()) {
                bail!("otp.allowed_prefixes: {prefix:?} is not + followed by digits");
            }
        }
        for rule in &self.dial_plan {
            if !rule.from.starts_with('+') {
                bail!(
                    "otp.dial_plan: from = {:?} must be an E.164 prefix (+…)",
                    rule.from
                );
            }
            if rule.to.chars().any(|c| c.is_whitespace() || c == '@') {
                bail!(
                    "otp.dial_plan: to = {:?} must be digits or a prefix, not a URI",
                    rule.to
                );
            }
        }
        if self.max_attempts == 0 || self.repeats == 0 || self.verify_attempts == 0 {
            bail!("otp: max_attempts, repeats and verify_attempts must be at least 1");
        }
        if self.repeats > self.max_repeats {
            bail!("otp.repeats must not exceed otp.max_repeats");
        }
        if self.max_concurrent == 0 || self.lease_secs < 3 || self.expiry_secs == 0 {
            bail!("otp: max_concurrent and expiry_secs must be at least 1, lease_secs at least 3");
        }
        if self.ring_timeout_secs == 0 || self.max_call_secs == 0 {
            bail!("otp: ring_timeout_secs and max_call_secs must be at least 1");
        }
        Ok(())
    }

    /// The callback signing key, when configured.
    pub fn callback_secret(&self) -> anyhow::Result<Option<SecretString>> {
        self.callback_secret_file
            .as_ref()
            .map(|path| {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("reading otp.callback_secret_file {}", path.display())
                })?;
                let secret = text.trim().to_owned();
                if secret.len() < 16 {
                    bail!(
                        "otp.callback_secret_file {}: the key must be at least 16 characters",
                        path.display()
                    );
                }
                Ok(SecretString::from(secret))
            })
            .transpose()
    }

    /// The service's rules. `languages`: the prompt languages, default first.
    pub fn settings(&self, languages: Vec<String>) -> OtpSettings {
        OtpSettings {
            // Checked by `validate`.
            default_region: self.default_region.as_deref().and_then(|r| r.parse().ok()),
            guard: DestinationGuard {
                allowed_prefixes: self.allowed_prefixes.clone(),
                allow_premium: self.allow_premium,
            },
            dial_plan: DialPlan {
                rules: self
                    .dial_plan
                    .iter()
                    .map(|r| (r.from.clone(), r.to.clone()))
                    .collect(),
            },
            caller_id: self.caller_id.clone(),
            per_number: RateLimit {
                max: self.per_number_max,
                window_ms: secs_to_ms(self.per_number_window_secs),
            },
            per_api_user: RateLimit {
                max: self.per_api_user_max,
                window_ms: secs_to_ms(self.per_api_user_window_secs),
            },
            daily_per_api_user: self.daily_per_api_user,
            max_attempts: self.max_attempts,
            retry_delay_ms: secs_to_ms(self.retry_delay_secs),
            expiry_ms: secs_to_ms(self.expiry_secs),
            default_repeats: self.repeats,
            max_repeats: self.max_repeats,
            languages,
            callbacks: self.callback_secret_file.is_some(),
            callback_allow_http: self.callback_allow_http,
            callback_allow_private: self.callback_allow_private_addresses,
        }
    }

    pub fn worker_settings(&self) -> WorkerSettings {
        let lease = Duration::from_secs(self.lease_secs);
        WorkerSettings {
            max_concurrent: self.max_concurrent,
            lease,
            heartbeat: (lease / 10).max(Duration::from_millis(300)),
            sweep_every: (lease / 3).max(Duration::from_secs(1)),
            ring_timeout: Some(Duration::from_secs(self.ring_timeout_secs)),
            max_call: Duration::from_secs(self.max_call_secs),
            flow: OtpFlowSettings {
                verify_attempts: self.verify_attempts,
                ..OtpFlowSettings::default()
            },
            helpdesk_uri: None,
        }
    }
}
