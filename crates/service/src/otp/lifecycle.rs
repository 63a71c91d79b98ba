//! The worker's side of a call: lease, progress, retry, finish, heartbeat,
//! sweep. Each status change commits with its history row and, when the
//! request gave a callback URL, an outbox item for it; a final status also
//! wipes the code and appends an audit row.

use serde_json::json;
use touchtone_store::AnyConnection;
use touchtone_store::otp_calls::{self, ClaimedCall, Finish};
use touchtone_store::outbox;

use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// The outbox action that delivers status callbacks; its payload carries
/// the URL (`{"url": …, "body": …}`).
pub const CALLBACK_ACTION: &str = "@otp-callback";

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
        report: Finish,
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
    ) -> Result<Vec<ClaimedCall>, ServiceError> {
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
                        report: Finish::default(),
                        detail: None,
                    },
                )
                .await?;
            } else {
                live.push(call);
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
        call: &ClaimedCall,
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
                Finish {
                    sip_status,
                    ring_ms,
                    ..Finish::default()
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
        let changed =
            otp_calls::finish(&mut tx, id, status, now, &report, detail.as_deref()).await?;
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
                    report: Finish::default(),
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
