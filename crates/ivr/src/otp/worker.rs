//! Places queued voice-OTP calls: leases due calls from the store (any node
//! may run a worker; none places a call twice), dials each through the
//! engine's trunk, runs the speak or verify flow, and reports every status
//! change to the service.
//!
//! Bounded: at most `max_concurrent` calls at once (a semaphore), and
//! leases only for calls it has a slot for. While calls run, their leases
//! are renewed every `heartbeat`; a node that dies stops renewing, and any
//! node's sweep then ends those calls as `interrupted` (never re-dialled:
//! the callee may already have heard the code). The same heartbeat picks up
//! cancellations asked for through the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use touchtone_core::otp::OtpCode;
use touchtone_core::secret::ExposeSecret;
use touchtone_service::Service;
use touchtone_service::otp::{CallReport, LeasedCall, OtpMode, Outcome};
use touchtone_sip::{DialError, DialProgress, DialRequest, Engine, TransferOutcome};

use super::flow::{self, OtpFlowSettings, OtpRecord};
use crate::line::{HungUp, Line, SipLine};
use crate::say::Say;
use crate::voice::Voice;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub max_concurrent: usize,
    /// How long a leased call is reserved without a heartbeat.
    pub lease: Duration,
    pub heartbeat: Duration,
    /// How often stale and expired calls are swept.
    pub sweep_every: Duration,
    /// Overrides the engine's ring timeout for OTP calls.
    pub ring_timeout: Option<Duration>,
    /// No answered call lasts longer.
    pub max_call: Duration,
    pub flow: OtpFlowSettings,
    /// Where a notification call's "not me" is transferred (REFER).
    pub helpdesk_uri: Option<String>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            max_concurrent: 100,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(1),
            sweep_every: Duration::from_secs(5),
            ring_timeout: None,
            max_call: Duration::from_secs(180),
            flow: OtpFlowSettings::default(),
            helpdesk_uri: None,
        }
    }
}

pub struct OtpWorker {
    service: Service,
    engine: Engine,
    /// Prompt sets by language; the first is used for an unknown one.
    voices: Vec<(String, Arc<Voice>)>,
    settings: WorkerSettings,
    active: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

impl OtpWorker {
    pub fn new(
        service: Service,
        engine: Engine,
        voices: Vec<(String, Arc<Voice>)>,
        settings: WorkerSettings,
    ) -> OtpWorker {
        OtpWorker {
            service,
            engine,
            voices,
            settings,
            active: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn voice(&self, language: &str) -> Option<Arc<Voice>> {
        self.voices
            .iter()
            .find(|(l, _)| l == language)
            .or_else(|| self.voices.first())
            .map(|(_, v)| v.clone())
    }

    fn active_ids(&self) -> Vec<String> {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Runs until `cancel` fires; calls in progress are then hung up (and,
    /// their leases no longer renewed, swept as interrupted).
    pub async fn run(self, cancel: CancellationToken) {
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(this.settings.max_concurrent.max(1)));
        let wake = this.service.otp_waker();
        let lease_ms = i64::try_from(this.settings.lease.as_millis()).unwrap_or(30_000);
        let mut next_sweep = Instant::now();
        let mut next_heartbeat = Instant::now() + this.settings.heartbeat;
        loop {
            if cancel.is_cancelled() {
                break;
            }
            if Instant::now() >= next_sweep {
                if let Err(e) = this.service.otp_sweep().await {
                    tracing::error!(error = %e, "OTP sweep failed");
                }
                next_sweep = Instant::now() + this.settings.sweep_every;
            }
            if Instant::now() >= next_heartbeat {
                match this
                    .service
                    .otp_heartbeat(&this.active_ids(), lease_ms)
                    .await
                {
                    Ok(cancelled) => {
                        let active = this.active.lock().unwrap_or_else(|e| e.into_inner());
                        for id in cancelled {
                            if let Some(token) = active.get(&id) {
                                token.cancel();
                            }
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "OTP lease renewal failed"),
                }
                next_heartbeat = Instant::now() + this.settings.heartbeat;
            }
            let free = slots.available_permits().min(64);
            let mut claimed_all = false;
            if free > 0 {
                match this
                    .service
                    .otp_claim(i64::try_from(free).unwrap_or(64), lease_ms)
                    .await
                {
                    Ok(calls) => {
                        claimed_all = calls.len() == free;
                        for call in calls {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                // Cannot happen (we leased no more than the
                                // free slots); the sweep would end it.
                                tracing::error!(call = %call.id, "no slot for a leased OTP call");
                                continue;
                            };
                            let token = cancel.child_token();
                            this.active
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(call.id.clone(), token.clone());
                            let worker = this.clone();
                            let shutdown = cancel.clone();
                            tokio::spawn(async move {
                                let id = call.id.clone();
                                worker.place(call, token, shutdown).await;
                                worker
                                    .active
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .remove(&id);
                                drop(permit);
                                // A slot is free: lease the next call now.
                                worker.service.otp_waker().notify_one();
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "leasing OTP calls failed"),
                }
            }
            if claimed_all {
                continue;
            }
            let until_due = match this.service.otp_next_due().await {
                Ok(Some(due)) => {
                    Duration::from_millis(u64::try_from(due - this.service.now()).unwrap_or(0))
                }
                _ => Duration::from_secs(3600),
            };
            let now = Instant::now();
            let sleep = until_due
                .max(Duration::from_millis(if free == 0 { 50 } else { 0 }))
                .min(next_heartbeat.saturating_duration_since(now))
                .min(next_sweep.saturating_duration_since(now));
            tokio::select! {
                () = cancel.cancelled() => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
        // The calls in progress were cancelled with us: let them record how
        // they ended (briefly; the sweep covers any that cannot).
        let deadline = Instant::now() + Duration::from_secs(5);
        while !this.active_ids().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Places one call attempt and reports how it ended. A call cut short
    /// because this worker is stopping is `interrupted`: queued again if it
    /// was not answered (nobody heard the code), final otherwise.
    async fn place(
        &self,
        call: LeasedCall,
        cancel: CancellationToken,
        shutdown: CancellationToken,
    ) {
        let mut outcome = self.attempt(&call, &cancel).await;
        if shutdown.is_cancelled() {
            outcome = match outcome {
                Outcome::Final {
                    status: "cancelled",
                    report,
                    ..
                } if report.talk_ms.is_none() => Outcome::Retryable {
                    status: "interrupted",
                    sip_status: report.sip_status,
                    ring_ms: report.ring_ms,
                },
                Outcome::Final {
                    status: "cancelled",
                    report,
                    ..
                } => Outcome::Final {
                    status: "interrupted",
                    report,
                    detail: Some(serde_json::json!({ "ended": "server_stopping" }).to_string()),
                },
                other => other,
            };
        }
        if let Err(e) = self.service.otp_end_attempt(&call, outcome).await {
            // The lease runs out and the sweep ends the call as interrupted.
            tracing::error!(call = %call.id, error = %e, "recording an OTP call's end failed");
        }
    }

    /// The callee of a notification call said it was not them: lock the
    /// person for every door (the service's rule), tell the callee, and
    /// put them through to the helpdesk when there is one.
    async fn not_me(&self, call: &LeasedCall, line: &mut SipLine) -> Result<(), HungUp> {
        let locked = match self.service.report_not_me(&call.id).await {
            Ok(locked) => locked,
            Err(e) => {
                tracing::error!(call = %call.id, error = %e, "recording \"not me\" failed");
                false
            }
        };
        let said = if locked {
            "notify-locked"
        } else {
            "notify-call-helpdesk"
        };
        line.say(&[Say::Prompt(said)]).await?;
        if let Some(uri) = &self.settings.helpdesk_uri {
            line.say(&[Say::Prompt("transferring")]).await?;
            match line.transfer(uri).await? {
                TransferOutcome::Completed => return Ok(()),
                other => {
                    tracing::warn!(call = %call.id, outcome = ?other, "the helpdesk transfer failed");
                    line.say(&[Say::Prompt("transfer-failed")]).await?;
                }
            }
        }
        line.say(&[Say::Prompt("goodbye")]).await
    }

    async fn attempt(&self, call: &LeasedCall, cancel: &CancellationToken) -> Outcome {
        let fail = |status: &'static str, sip_status: Option<i64>, detail: Option<String>| {
            Outcome::Final {
                status,
                report: CallReport {
                    sip_status,
                    ..CallReport::default()
                },
                detail: detail.map(|d| serde_json::json!({ "error": d }).to_string()),
            }
        };
        let Ok(code) = OtpCode::parse(call.code.expose_secret()) else {
            return fail("failed", None, Some("the stored code is malformed".into()));
        };
        let Some(voice) = self.voice(&call.language) else {
            return fail("failed", None, Some("no prompt set".into()));
        };
        let started = Instant::now();
        let (progress_tx, mut progress_rx) = mpsc::channel(4);
        let request = DialRequest {
            to: call.dial_string.clone(),
            caller_id: call.caller_id.clone(),
            ring_timeout: self.settings.ring_timeout,
        };
        let dial = self
            .engine
            .dial(request, Some(progress_tx), cancel.child_token());
        tokio::pin!(dial);
        let mut rang = false;
        let result = loop {
            tokio::select! {
                r = &mut dial => break r,
                Some(p) = progress_rx.recv() => {
                    if p == DialProgress::Ringing && !rang {
                        rang = true;
                        if let Err(e) = self.service.otp_progress(&call.id, "ringing", None).await {
                            tracing::warn!(call = %call.id, error = %e, "recording ringing failed");
                        }
                    }
                }
            }
        };
        let ring_ms = i64::try_from(started.elapsed().as_millis()).ok();
        let channel = match result {
            Ok(channel) => channel,
            Err(e) => {
                let ring = |status, sip| Outcome::Final {
                    status,
                    report: CallReport {
                        sip_status: sip,
                        ring_ms,
                        ..CallReport::default()
                    },
                    detail: None,
                };
                return match e {
                    DialError::Busy => Outcome::Retryable {
                        status: "busy",
                        sip_status: Some(486),
                        ring_ms,
                    },
                    DialError::NoAnswer => Outcome::Retryable {
                        status: "no-answer",
                        sip_status: None,
                        ring_ms,
                    },
                    DialError::Rejected {
                        status: s @ (408 | 480),
                    } => Outcome::Retryable {
                        status: "no-answer",
                        sip_status: Some(i64::from(s)),
                        ring_ms,
                    },
                    DialError::Declined => ring("declined", Some(603)),
                    DialError::Cancelled => ring("cancelled", Some(487)),
                    DialError::AuthenticationFailed(s) => fail(
                        "auth-failed",
                        Some(i64::from(s)),
                        Some("the trunk refused our credentials".into()),
                    ),
                    DialError::Rejected {
                        status: s @ (404 | 410 | 416 | 484 | 485 | 604),
                    } => ring("invalid-number", Some(i64::from(s))),
                    DialError::Rejected { status } => ring("failed", Some(i64::from(status))),
                    DialError::Failed(reason) => fail("failed", None, Some(reason)),
                };
            }
        };
        if let Err(e) = self.service.otp_progress(&call.id, "answered", None).await {
            tracing::warn!(call = %call.id, error = %e, "recording the answer failed");
        }
        let answered = Instant::now();
        let mut line = SipLine::new(channel, voice);
        let mut record = OtpRecord::default();
        let repeats = u32::try_from(call.repeats).unwrap_or(1);
        let cut_short = {
            let run = async {
                match call.mode {
                    OtpMode::Verify => {
                        flow::verify(&mut line, &code, &self.settings.flow, &mut record).await
                    }
                    OtpMode::Speak => {
                        flow::speak(&mut line, &code, repeats, &self.settings.flow, &mut record)
                            .await
                    }
                    OtpMode::Notify => {
                        let purpose = call.purpose.as_deref().unwrap_or("");
                        flow::notify(&mut line, &code, purpose, &self.settings.flow, &mut record)
                            .await?;
                        if record.not_me {
                            self.not_me(call, &mut line).await?;
                        }
                        Ok(())
                    }
                }
            };
            tokio::select! {
                _ = run => None,
                () = cancel.cancelled() => Some("cancelled"),
                () = tokio::time::sleep(self.settings.max_call) => Some("too_long"),
            }
        };
        let talk_ms = i64::try_from(answered.elapsed().as_millis()).ok();
        line.hangup().await;
        let status = match (cut_short, call.mode) {
            (Some("cancelled"), _) => "cancelled",
            (_, OtpMode::Verify) => record.verify_status(),
            (_, OtpMode::Notify) => record.notify_status(),
            (_, OtpMode::Speak) => record.speak_status(),
        };
        Outcome::Final {
            status,
            report: CallReport {
                sip_status: Some(200),
                ring_ms,
                talk_ms,
                code_played: i64::from(record.code_played),
                entries: serde_json::to_string(&record.entries).unwrap_or_default(),
            },
            detail: cut_short
                .filter(|c| *c != "cancelled")
                .map(|c| serde_json::json!({ "ended": c }).to_string()),
        }
    }
}
