//! The task that owns one established call: it answers the peer's in-dialog
//! requests (INFO digits, re-INVITE, OPTIONS, NOTIFY for our transfers),
//! carries out the `Channel`'s commands (hang up, transfer), watches for RTP
//! silence, and tears everything down exactly once when the call ends.

use crate::channel::{CallCommand, TransferOutcome};
use crate::dtmf::{Digit, DigitSource, info};
use crate::rtp::session::MediaSession;
use crate::sdp::{LocalMedia, RemoteMedia};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TransactionHandle};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, HeadersExt, Method, Request, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// One place under the engine's `max_calls`, taken atomically before any
/// work is done for a call and given back when dropped.
pub(crate) struct CallSlot {
    counter: Arc<AtomicUsize>,
}

impl CallSlot {
    pub fn take(counter: &Arc<AtomicUsize>, max: usize) -> Option<CallSlot> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| CallSlot {
                counter: counter.clone(),
            })
    }
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct CallTask {
    pub dialog: InviteDialog,
    pub dialog_layer: Arc<DialogLayer>,
    pub states: DialogStateReceiver,
    pub commands: mpsc::Receiver<CallCommand>,
    pub media: Arc<MediaSession>,
    pub local_media: LocalMedia,
    pub digits: mpsc::Sender<(Digit, DigitSource)>,
    pub ended: CancellationToken,
    /// Held for the call's lifetime; frees its place under `max_calls`.
    pub _slot: CallSlot,
    pub rtp_timeout: Option<Duration>,
    pub call_id: String,
    /// CSeq of a re-INVITE without SDP that we answered with an offer: its
    /// ACK carries the answer (RFC 3261 §14.2).
    pub late_answer_cseq: Option<u32>,
}

impl CallTask {
    pub async fn run(mut self) {
        let mut pending_transfer: Option<oneshot::Sender<TransferOutcome>> = None;
        let mut transfer_deadline = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
        let mut rtp_check = tokio::time::interval(Duration::from_secs(1));
        let mut on_hold = false;
        loop {
            tokio::select! {
                state = self.states.recv() => {
                    let Some(state) = state else { break };
                    match state {
                        DialogState::Info(_, req, handle) => self.on_info(&req, handle).await,
                        DialogState::Updated(_, req, handle) => {
                            if let Some(hold) = self.on_update(&req, handle).await {
                                on_hold = hold;
                            }
                        }
                        DialogState::Options(_, _, handle) => {
                            let _ = handle.reply(StatusCode::OK).await;
                        }
                        DialogState::Refer(_, _, handle) | DialogState::Message(_, _, handle) | DialogState::Publish(_, _, handle) => {
                            let _ = handle.reply(StatusCode::Decline).await;
                        }
                        DialogState::Notify(_, req, handle) => {
                            let _ = handle.reply(StatusCode::OK).await;
                            if let Some(status) = sipfrag_status(&req)
                                && status >= 200
                                && let Some(reply) = pending_transfer.take()
                            {
                                if (200..300).contains(&status) {
                                    let _ = reply.send(TransferOutcome::Completed);
                                    // RFC 5589 §6.1: the transferor hangs up
                                    // once the target answered. The 200 for
                                    // this NOTIFY goes out from the
                                    // transaction's task; give it a moment
                                    // so the BYE does not overtake it.
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    let _ = self.dialog.bye().await;
                                    break;
                                }
                                let _ = reply.send(TransferOutcome::Failed(Some(status)));
                            }
                        }
                        DialogState::Confirmed(..) => {
                            if let Some(hold) = self.on_late_answer() {
                                on_hold = hold;
                            }
                        }
                        DialogState::Terminated(_, reason) => {
                            debug!(call_id = %self.call_id, ?reason, "dialog terminated");
                            break;
                        }
                        _ => {}
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    None | Some(CallCommand::Hangup) => {
                        let _ = self.dialog.bye().await;
                        break;
                    }
                    Some(CallCommand::Transfer { target, reply }) => {
                        match self.refer(&target).await {
                            Ok(()) => {
                                pending_transfer = Some(reply);
                                transfer_deadline = tokio::time::Instant::now() + TRANSFER_TIMEOUT;
                            }
                            Err(outcome) => {
                                let _ = reply.send(outcome);
                            }
                        }
                    }
                },
                _ = tokio::time::sleep_until(transfer_deadline), if pending_transfer.is_some() => {
                    if let Some(reply) = pending_transfer.take() {
                        let _ = reply.send(TransferOutcome::TimedOut);
                    }
                }
                _ = rtp_check.tick(), if self.rtp_timeout.is_some() && !on_hold => {
                    let limit = self.rtp_timeout.unwrap_or_default().as_millis() as u64;
                    let now = self.media.started.elapsed().as_millis() as u64;
                    let last = self.media.counters.last_packet_ms.load(Ordering::Relaxed);
                    if now.saturating_sub(last) > limit {
                        info!(call_id = %self.call_id, "no RTP for {limit} ms: hanging up");
                        let _ = self.dialog.bye().await;
                        break;
                    }
                }
            }
        }
        self.media.stop();
        self.ended.cancel();
        self.dialog_layer.remove_dialog(&self.dialog.id());
    }

    async fn on_info(&self, req: &Request, handle: TransactionHandle) {
        let content_type = req.header_value("Content-Type").unwrap_or_default();
        match info::parse_info_body(&content_type, req.body()) {
            Some(d) => {
                let _ = self.digits.try_send((d, DigitSource::SipInfo));
                let _ = handle.reply(StatusCode::OK).await;
            }
            // Empty INFO is a keep-alive probe (RFC 6086 §4.2.2 allows it).
            None if req.body().is_empty() => {
                let _ = handle.reply(StatusCode::OK).await;
            }
            None => {
                let _ = handle.reply(StatusCode::UnsupportedMediaType).await;
            }
        }
    }

    /// re-INVITE or UPDATE: returns Some(on_hold) when media changed.
    async fn on_update(&mut self, req: &Request, handle: TransactionHandle) -> Option<bool> {
        if req.body().is_empty() {
            // No offer: ours is our current description (RFC 3261 §14.2);
            // a re-INVITE's ACK brings the answer.
            if req.method == Method::Invite {
                self.late_answer_cseq = req.cseq_header().ok().and_then(|c| c.seq().ok());
            }
            let body = self.local_media.render().into_bytes();
            let _ = handle
                .respond(StatusCode::OK, Some(sdp_headers()), Some(body))
                .await;
            return None;
        }
        let remote = match RemoteMedia::parse(req.body()) {
            Ok(r) => r,
            Err(e) => {
                warn!(call_id = %self.call_id, error = %e, "re-INVITE with unusable SDP");
                let _ = handle.reply(StatusCode::NotAcceptableHere).await;
                return None;
            }
        };
        let Some(sending) = self.apply_remote(&remote, true) else {
            let _ = handle.reply(StatusCode::NotAcceptableHere).await;
            return None;
        };
        let body = self.local_media.render().into_bytes();
        let _ = handle
            .respond(StatusCode::OK, Some(sdp_headers()), Some(body))
            .await;
        Some(!sending)
    }

    /// The ACK of a re-INVITE we answered with an offer: applies its
    /// answer. An unusable answer keeps the media as it was. Returns
    /// Some(on_hold) when media changed.
    fn on_late_answer(&mut self) -> Option<bool> {
        let cseq = self.late_answer_cseq?;
        let ack = self.dialog.last_remote_ack()?;
        if ack.cseq_header().ok().and_then(|c| c.seq().ok()) != Some(cseq) {
            return None; // the ACK of an earlier INVITE
        }
        self.late_answer_cseq = None;
        let remote = match RemoteMedia::parse(ack.body()) {
            Ok(r) => r,
            Err(e) => {
                warn!(call_id = %self.call_id, error = %e, "re-INVITE's ACK without a usable answer");
                return None;
            }
        };
        let sending = self.apply_remote(&remote, false)?;
        Some(!sending)
    }

    /// Points the media at `remote` with the codec it chose; `None` when it
    /// has none of ours. `answering`: `remote` is an offer we answer (our
    /// direction follows it and our description gets a new version);
    /// otherwise it answers our offer, which stays as it was.
    fn apply_remote(&mut self, remote: &RemoteMedia, answering: bool) -> Option<bool> {
        let (codec, pt) = remote.choose_codec().ok()?;
        let sending = remote.direction.peer_receives();
        self.media.update(remote.address, codec, pt, sending);
        if answering {
            self.local_media.codecs = vec![(codec, pt)];
            self.local_media.direction = remote.direction.answer();
            self.local_media.session_version += 1;
        }
        Some(sending)
    }

    async fn refer(&self, target: &str) -> Result<(), TransferOutcome> {
        let uri =
            rsipstack::sip::Uri::try_from(target).map_err(|_| TransferOutcome::Failed(None))?;
        match self.dialog.refer(uri, None, None).await {
            Ok(Some(resp))
                if resp.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful =>
            {
                Ok(())
            }
            Ok(Some(resp)) => Err(TransferOutcome::Failed(Some(resp.status_code.code()))),
            Ok(None) => Err(TransferOutcome::TimedOut),
            Err(e) => {
                warn!(call_id = %self.call_id, error = %e, "REFER failed");
                Err(TransferOutcome::Failed(None))
            }
        }
    }
}

pub(crate) fn sdp_headers() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

/// The status line of a `message/sipfrag` NOTIFY body (RFC 3515 §2.4.5).
fn sipfrag_status(req: &Request) -> Option<u16> {
    let text = std::str::from_utf8(req.body()).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    if parts.next()? != "SIP/2.0" {
        return None;
    }
    parts.next()?.parse().ok()
}
