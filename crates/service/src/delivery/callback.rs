//! Voice-OTP status callbacks: each outbox item carries its own URL (the
//! one the request gave) and body; the body is signed like a webhook's
//! (`X-Touchtone-Signature`, HMAC-SHA256 of `"{timestamp}.{body}"`) with the
//! callback secret, and retried durably like every event action.

use std::time::Duration;

use async_trait::async_trait;
use touchtone_core::secret::SecretString;

use super::Sink;
use super::webhook::{http_client, post_signed};

pub struct CallbackSink {
    secret: SecretString,
    client: reqwest::Client,
}

impl CallbackSink {
    pub fn new(secret: SecretString, timeout: Duration) -> Result<Self, String> {
        let client = http_client(timeout).map_err(|e| format!("callback client: {e}"))?;
        Ok(Self { secret, client })
    }
}

#[async_trait]
impl Sink for CallbackSink {
    async fn deliver(
        &self,
        event_id: &str,
        _event_type: &str,
        payload: &str,
    ) -> Result<(), String> {
        let item: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| format!("callback item: {e}"))?;
        let url = item
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or("callback item without a URL")?;
        let body = item
            .get("body")
            .ok_or("callback item without a body")?
            .to_string();
        post_signed(
            &self.client,
            url,
            &self.secret,
            event_id,
            "otp.call.status",
            body,
        )
        .await
    }
}
