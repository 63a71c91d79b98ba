//! The worker's side of a call: lease, progress, retry, finish, heartbeat,
//! sweep. Each status change commits with its history row and, when the
//! request gave a callback URL, an outbox item for it; a final status also
//! wipes the code and appends an audit row.

use serde_json::json;
use touchtone_core::secret::SecretString;
use touchtone_store::AnyConnection;
use touchtone_store::otp_calls::{self, ClaimedCall, Finish};
use touchtone_store::outbox;

use super::OtpMode;
use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// The outbox action that delivers status callbacks; its payload carries
/// the URL (`{"url": …, "body": …}`).
pub const CALLBACK_ACTION: &str = "@otp-callback";

/// A call leased for placing, with what the worker needs to dial it and
/// run its flow.
#[derive(Debug, Clone)]
pub struct LeasedCall {
    pub id: String,
    /// What to dial (after the dial plan).
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub mode: OtpMode,
    pub language: String,
    /// Readings of the code per playing.
    pub repeats: i64,
    /// The code, as accepted (digits).
    pub code: SecretString,
    /// Attempts made so far, this one included.
    pub attempts: i64,
    pub max_attempts: i64,
    pub expires_at: i64,
    /// A notification call: what it tells (`reset`, `unlock`, `lockout`).
    pub purpose: Option<String>,
}

impl From<ClaimedCall> for LeasedCall {
    fn from(c: ClaimedCall) -> LeasedCall {
        LeasedCall {
            id: c.id,
            dial_string: c.dial_string,
            caller_id: c.caller_id,
            mode: OtpMode::parse(&c.mode).unwrap_or(OtpMode::Speak),
            language: c.language,
            repeats: c.repeats,
            code: SecretString::from(c.code),
            attempts: c.attempts,
            max_attempts: c.max_attempts,
            expires_at: c.expires_at,
            purpose: c.purpose,
        }
    }
}

/// What an attempt reports for the call detail record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallReport {
    /// The final SIP status of the INVITE.
    pub sip_status: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    /// Times the code was read out.
    pub code_played: i64,
    /// JSON array of what was keyed in verify mode (lengths and results,
    /// never the keys).
    pub entries: String,
}

impl CallReport {
    fn to_finish(&self) -> Finish {
        Finish {
            sip_status: self.sip_status,
            ring_ms: self.ring_ms,
            talk_ms: self.talk_ms,
            code_played: self.code_played,
            entries: self.entries.clone(),
        }
    }
}

/// How an attempt ended, as the worker saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Busy or not answered: retried while attempts and time remain.
    Retryable {
        status: &'static str,
        sip_status: Option<i64>,
        ring_ms: Option<i64>,
    },
    /// A final status with the call's record.
    Final {
        status: &'static str,
        report: CallReport,
        detail: Option<String>,
    },
}

impl Service {
    /// Wakes the worker when a call is queued.
    pub fn otp_waker(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.inner.otp_wake.clone()
    }

    /// Leases up to `limit` due calls for `lease_ms`. Calls whose code
    /// expired while queued are finished as `expired` instead.
    pub async fn otp_claim(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<LeasedCall>, ServiceError> {
        let now = self.now();
        let claimed = {
            let _queued = self.store().queue_for_write().await;
            let mut tx = self.store().begin().await?;
            let claimed = otp_calls::claim_due(&mut tx, now, now + lease_ms, limit).await?;
            commit(tx).await?;
            claimed
        };
        let mut live = Vec::with_capacity(claimed.len());
        for call in claimed {
            if call.expires_at <= now {
                self.otp_finish(
                    &call.id,
                    Outcome::Final {
                        status: "expired",
                        report: CallReport::default(),
                        detail: None,
                    },
                )
                .await?;
            } else {
                live.push(call.into());
            }
        }
        Ok(live)
    }

    /// A non-final status (`ringing`, `answered`).
    pub async fn otp_progress(
        &self,
        id: &str,
        status: &str,
        detail: Option<&str>,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        let _queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        if otp_calls::progress(&mut tx, id, status, now, detail).await? {
            self.otp_callback(&mut tx, id, status, false, now).await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// Records how an attempt ended: a retryable one is queued again when
    /// attempts and the code's lifetime allow, else it is final.
    pub async fn otp_end_attempt(
        &self,
        call: &LeasedCall,
        outcome: Outcome,
    ) -> Result<&'static str, ServiceError> {
        let settings = &self.settings().otp;
        let now = self.now();
        if let Outcome::Retryable {
            status, sip_status, ..
        } = &outcome
        {
            let next = now + settings.retry_delay_ms;
            if call.attempts < call.max_attempts && next < call.expires_at {
                let _queued = self.store().queue_for_write().await;
                let mut tx = self.store().begin().await?;
                if otp_calls::requeue(&mut tx, &call.id, status, next, now, *sip_status).await? {
                    self.otp_callback(&mut tx, &call.id, status, false, now)
                        .await?;
                }
                commit(tx).await?;
                return Ok("queued");
            }
        }
        let status = match &outcome {
            Outcome::Retryable { status, .. } | Outcome::Final { status, .. } => *status,
        };
        self.otp_finish(&call.id, outcome).await?;
        Ok(status)
    }

    /// Moves a call to its final status, wiping the code.
    pub async fn otp_finish(&self, id: &str, outcome: Outcome) -> Result<bool, ServiceError> {
        let (status, report, detail) = match outcome {
            Outcome::Retryable {
                status,
                sip_status,
                ring_ms,
            } => (
                status,
                CallReport {
                    sip_status,
                    ring_ms,
                    ..CallReport::default()
                },
                None,
            ),
            Outcome::Final {
                status,
                report,
                detail,
            } => (status, report, detail),
        };
        let now = self.now();
        let _queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        let changed = otp_calls::finish(
            &mut tx,
            id,
            status,
            now,
            &report.to_finish(),
            detail.as_deref(),
        )
        .await?;
        if changed {
            self.otp_callback(&mut tx, id, status, true, now).await?;
            append_audit(
                &mut tx,
                "system",
                "otp_call_end",
                id,
                status,
                json!({"sip_status": report.sip_status, "code_played": report.code_played}),
                now,
            )
            .await?;
        }
        commit(tx).await?;
        if changed {
            tracing::info!(call = %id, status, "OTP call ended");
        }
        Ok(changed)
    }

    /// Renews the leases of the calls this worker is placing; returns those
    /// whose cancellation was asked for.
    pub async fn otp_heartbeat(
        &self,
        ids: &[String],
        lease_ms: i64,
    ) -> Result<Vec<String>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let _queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        otp_calls::extend_leases(&mut tx, ids, now + lease_ms).await?;
        let cancelled = otp_calls::cancel_requested(&mut tx, ids).await?;
        commit(tx).await?;
        Ok(cancelled)
    }

    /// Ends the calls a crashed or stopped node was placing (`interrupted`:
    /// never dialled again, the callee may have heard the code) and the
    /// queued calls whose code expired. Returns how many it ended.
    pub async fn otp_sweep(&self) -> Result<usize, ServiceError> {
        let now = self.now();
        let (stale, expired) = {
            let mut conn = self.store().acquire().await?;
            (
                otp_calls::stale_in_progress(&mut conn, now).await?,
                otp_calls::expired_queued(&mut conn, now).await?,
            )
        };
        let mut ended = 0;
        for (ids, status) in [(stale, "interrupted"), (expired, "expired")] {
            for id in ids {
                let outcome = Outcome::Final {
                    status,
                    report: CallReport::default(),
                    detail: None,
                };
                if self.otp_finish(&id, outcome).await? {
                    ended += 1;
                }
            }
        }
        Ok(ended)
    }

    /// When the earliest queued call is due (for the worker's sleep).
    pub async fn otp_next_due(&self) -> Result<Option<i64>, ServiceError> {
        let mut conn = self.store().acquire().await?;
        Ok(otp_calls::next_due(&mut conn).await?)
    }

    /// Queues the status callback, when the call has a callback URL.
    pub(crate) async fn otp_callback(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        status: &str,
        is_final: bool,
        now: i64,
    ) -> Result<(), ServiceError> {
        let Some(url) = otp_calls::callback_url(conn, id).await? else {
            return Ok(());
        };
        let event_id = uuid::Uuid::new_v4().to_string();
        let payload = json!({
            "url": url,
            "body": {
                "event_id": event_id,
                "call_id": id,
                "status": status,
                "final": is_final,
                "at": now,
            },
        });
        outbox::enqueue(conn, &event_id, CALLBACK_ACTION, &payload.to_string(), now).await?;
        Ok(())
    }
}
