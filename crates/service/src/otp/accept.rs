//! Accepting a call request: validate, guard, rate-limit, write, answer.
//!
//! Order matters for what a caller can learn: the request's form is checked
//! first (a clear 400), credentials were checked by the door before this,
//! then the destination guard and the limits; a refusal writes nothing but
//! its audit row. The limit checks and the insert run under one lock
//! ([`otp_calls::lock_for_limits`]) so concurrent requests, on any node,
//! cannot together pass a limit.

use serde_json::json;
use sha2::{Digest, Sha256};
use touchtone_core::otp::{OtpCode, OtpError};
use touchtone_core::phone::{E164Number, PhoneError};
use touchtone_store::otp_calls::{self, CallsBy, NewOtpCall};

use crate::api::ApiUserInfo;
use crate::delivery::names_a_private_host;
use crate::otp::OtpSettings;
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service, ServiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtpMode {
    /// The code is read to the callee.
    Speak,
    /// The callee keys in the code shown to them.
    Verify,
    /// A notification: after a key press, the callee hears what happened
    /// to their account at the time the code gives (`HHMM`), and may press
    /// 1 if it was not them. Only the service queues these.
    Notify,
}

impl OtpMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpMode::Speak => "speak",
            OtpMode::Verify => "verify",
            OtpMode::Notify => "notify",
        }
    }

    pub fn parse(text: &str) -> Option<OtpMode> {
        [OtpMode::Speak, OtpMode::Verify, OtpMode::Notify]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// A request, as either door received it.
#[derive(Debug, Clone)]
pub struct OtpRequest {
    pub to: String,
    pub code: OtpCode,
    pub mode: OtpMode,
    pub language: Option<String>,
    pub repeat: Option<u32>,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
    /// For a notification call: the person it is about and what it tells
    /// (set only by the service, never from a door).
    pub about: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub call_id: String,
    pub status: String,
    /// The idempotency key matched an earlier request: nothing new was
    /// queued.
    pub replayed: bool,
}

impl Service {
    /// Queues a call for `api_user` (already authenticated by the door).
    /// When this returns, the call is committed to the store.
    pub async fn otp_accept(
        &self,
        caller: &Caller,
        api_user: &ApiUserInfo,
        request: OtpRequest,
    ) -> Result<Accepted, ServiceError> {
        self.queue_otp(caller, &api_user.name, request).await
    }

    /// Queues a call on behalf of `api_user`: an API user, or one of the
    /// service's own reserved names (`@portal`), under the same guard and
    /// limits.
    pub(crate) async fn queue_otp(
        &self,
        caller: &Caller,
        api_user: &str,
        request: OtpRequest,
    ) -> Result<Accepted, ServiceError> {
        let settings = &self.settings().otp;
        let destination = parse_destination(&request.to, settings.default_region)?;
        let language = match &request.language {
            None => settings
                .languages
                .first()
                .cloned()
                .unwrap_or_else(|| "en".to_owned()),
            Some(l) if settings.languages.iter().any(|known| known == l) => l.clone(),
            Some(_) => {
                return Err(ServiceError::BadRequest(format!(
                    "language must be one of: {}",
                    settings.languages.join(", ")
                )));
            }
        };
        let repeats = request.repeat.unwrap_or(settings.default_repeats);
        if repeats == 0 || repeats > settings.max_repeats {
            return Err(ServiceError::BadRequest(format!(
                "repeat must be 1 to {}",
                settings.max_repeats
            )));
        }
        if let Some(url) = &request.callback_url {
            check_callback_url(url, settings)?;
        }
        if let Some(key) = &request.idempotency_key
            && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ServiceError::BadRequest(
                "the Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            ));
        }
        let digest = request_digest(&destination, &request, &language, repeats);
        let now = self.now();
        let masked = request.code.mask();

        if let Err(e) = settings.guard.check(&destination) {
            let reason = match e {
                OtpError::PremiumRate => "premium_rate",
                _ => "destination_not_allowed",
            };
            self.audit_refusal(caller, api_user, &destination, reason)
                .await?;
            return Err(ServiceError::DestinationRefused(e.to_string()));
        }

        let _queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        otp_calls::lock_for_limits(&mut tx).await?;
        if let Some(key) = &request.idempotency_key
            && let Some(earlier) = otp_calls::find_by_key(&mut tx, api_user, key).await?
        {
            drop(tx);
            let same_code = earlier
                .code
                .as_deref()
                .is_none_or(|code| request.code.matches(code));
            if earlier.request_digest != digest || !same_code {
                return Err(ServiceError::IdempotencyConflict);
            }
            return Ok(Accepted {
                call_id: earlier.id,
                status: earlier.status,
                replayed: true,
            });
        }
        let by_number = CallsBy::Destination(destination.as_str());
        let by_user = CallsBy::ApiUser(api_user);
        let limits = [
            (
                otp_calls::count_since(&mut tx, by_number, now - settings.per_number.window_ms)
                    .await?,
                settings.per_number.max,
                "per_number",
                "too many calls to this number; try again later",
            ),
            (
                otp_calls::count_since(&mut tx, by_user, now - settings.per_api_user.window_ms)
                    .await?,
                settings.per_api_user.max,
                "per_api_user",
                "too many calls requested; slow down",
            ),
            (
                otp_calls::count_since(&mut tx, by_user, now - 24 * 3600 * 1000).await?,
                settings.daily_per_api_user,
                "daily_cap",
                "the daily call limit for this API user is reached",
            ),
        ];
        if let Some((_, _, limit, message)) = limits
            .iter()
            .find(|(count, max, _, _)| *count >= i64::from(*max))
        {
            drop(tx);
            self.audit_refusal(caller, api_user, &destination, limit)
                .await?;
            return Err(ServiceError::RateLimited((*message).to_owned()));
        }

        let call = NewOtpCall {
            id: uuid::Uuid::new_v4().to_string(),
            api_user: api_user.to_owned(),
            idempotency_key: request.idempotency_key.clone(),
            request_digest: digest,
            dial_string: settings.dial_plan.apply(&destination),
            destination: destination.as_str().to_owned(),
            caller_id: settings.caller_id.clone(),
            mode: request.mode.as_str().to_owned(),
            language,
            repeats: i64::from(repeats),
            code: request.code.digits().to_owned(),
            code_mask: masked.clone(),
            callback_url: request.callback_url.clone(),
            max_attempts: i64::from(settings.max_attempts.max(1)),
            expires_at: now + settings.expiry_ms,
            now,
            person_id: request.about.as_ref().map(|(person, _)| person.clone()),
            purpose: request.about.as_ref().map(|(_, purpose)| purpose.clone()),
        };
        otp_calls::insert(&mut tx, &call).await?;
        self.otp_callback(&mut tx, &call.id, "queued", false, now)
            .await?;
        append_audit(
            &mut tx,
            api_user,
            "otp_call",
            destination.as_str(),
            "accepted",
            json!({"call": call.id, "mode": call.mode, "code": masked, "ip": caller.ip.to_string()}),
            now,
        )
        .await?;
        commit(tx).await?;
        tracing::info!(call = %call.id, api_user = %api_user, mode = %call.mode, "OTP call queued");
        self.inner.otp_wake.notify_one();
        Ok(Accepted {
            call_id: call.id,
            status: "queued".to_owned(),
            replayed: false,
        })
    }

    /// Records a refused call request (destination guard or rate limit)
    /// in the audit chain: who asked, for which number, and why.
    async fn audit_refusal(
        &self,
        caller: &Caller,
        api_user: &str,
        destination: &E164Number,
        reason: &str,
    ) -> Result<(), ServiceError> {
        self.audit(
            caller,
            api_user,
            "otp_call",
            destination.as_str(),
            "refused",
            json!({"reason": reason}),
        )
        .await
    }
}

/// A number as given (digits, national or international form) in E.164.
pub fn parse_destination(
    to: &str,
    region: Option<touchtone_core::phone::Region>,
) -> Result<E164Number, ServiceError> {
    E164Number::parse(to, region).map_err(|e| {
        ServiceError::BadRequest(match e {
            PhoneError::Invalid => "the number is not a valid telephone number".to_owned(),
            _ if region.is_none() && !to.trim_start().starts_with('+') => {
                "the number must be in international form (+ and country code)".to_owned()
            }
            _ => "the number is not a telephone number".to_owned(),
        })
    })
}

fn check_callback_url(url: &str, settings: &OtpSettings) -> Result<(), ServiceError> {
    let allow_http = settings.callback_allow_http;
    if !settings.callbacks {
        return Err(ServiceError::BadRequest(
            "callbacks are not configured on this server (otp.callback_secret_file)".into(),
        ));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| ServiceError::BadRequest("callback_url is not a URL".into()))?;
    let scheme_ok = parsed.scheme() == "https" || (allow_http && parsed.scheme() == "http");
    if !scheme_ok || parsed.host_str().is_none() || url.len() > 2000 {
        return Err(ServiceError::BadRequest(if allow_http {
            "callback_url must be an http or https URL of at most 2000 characters".into()
        } else {
            "callback_url must be an https URL of at most 2000 characters".into()
        }));
    }
    if !settings.callback_allow_private && names_a_private_host(&parsed) {
        return Err(ServiceError::BadRequest(
            "callback_url must name a public host, not a loopback, private or link-local address"
                .into(),
        ));
    }
    Ok(())
}

/// SHA-256 of everything in the request but the code.
fn request_digest(
    destination: &E164Number,
    request: &OtpRequest,
    language: &str,
    repeats: u32,
) -> String {
    let canonical = json!([
        destination.as_str(),
        request.mode.as_str(),
        language,
        repeats,
        request.callback_url,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}
