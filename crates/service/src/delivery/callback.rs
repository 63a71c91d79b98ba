//! Voice-OTP status callbacks: each outbox item carries its own URL (the
//! one the request gave) and body; the body is signed like a webhook's
//! (`X-Touchtone-Signature`, HMAC-SHA256 of `"{timestamp}.{body}"`) with the
//! callback secret, and retried durably like every event action.

use std::time::Duration;

use async_trait::async_trait;
use touchtone_core::secret::{ExposeSecret, SecretString};

use super::Sink;
use super::webhook::{sign, without_url};

pub struct CallbackSink {
    secret: SecretString,
    client: reqwest::Client,
}

impl CallbackSink {
    pub fn new(secret: SecretString, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("callback client: {e}"))?;
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
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let signature = sign(self.secret.expose_secret().as_bytes(), timestamp, &body);
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-touchtone-event-id", event_id)
            .header("x-touchtone-event-type", "otp.call.status")
            .header("x-touchtone-timestamp", timestamp.to_string())
            .header("x-touchtone-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST failed: {}", without_url(&e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", response.status()))
        }
    }
}
