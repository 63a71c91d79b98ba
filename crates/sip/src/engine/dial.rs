//! Outbound calls: `Engine::dial` through the trunk (or to a full SIP
//! URI), its progress and failures, and reading the callee's SDP answer.

use super::{Engine, start_call};
use crate::call::CallSlot;
use crate::channel::{CallInfo, Channel};
use crate::g711::Codec;
use crate::sdp::{LocalMedia, RemoteMedia};
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::Uri;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// Progress of an outbound call, reported while it is being set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialProgress {
    Ringing,
    Answered,
}

/// Why an outbound call was not answered.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DialError {
    #[error("busy")]
    Busy,
    #[error("no answer")]
    NoAnswer,
    #[error("declined")]
    Declined,
    #[error("cancelled")]
    Cancelled,
    #[error("the trunk refused our credentials (status {0})")]
    AuthenticationFailed(u16),
    #[error("call failed with SIP status {status}")]
    Rejected { status: u16 },
    #[error("call failed: {0}")]
    Failed(String),
}

/// What to dial.
#[derive(Debug, Clone)]
pub struct DialRequest {
    /// A full `sip:` URI, or a number to send to the configured trunk.
    pub to: String,
    /// User part of From; defaults to the trunk's caller ID.
    pub caller_id: Option<String>,
    /// Overrides the configured ring timeout.
    pub ring_timeout: Option<Duration>,
}

impl Engine {
    /// Places a call and returns its `Channel` once answered. `progress`
    /// hears Ringing/Answered; cancelling `cancel` sends CANCEL (or BYE if
    /// the answer crossed it).
    pub async fn dial(
        &self,
        request: DialRequest,
        progress: Option<mpsc::Sender<DialProgress>>,
        cancel: CancellationToken,
    ) -> Result<Channel, DialError> {
        let inner = &self.inner;
        let trunk = inner.config.trunk.as_ref();
        let callee_text = if request.to.starts_with("sip:") || request.to.starts_with("sips:") {
            request.to.clone()
        } else {
            let trunk = trunk.ok_or_else(|| {
                DialError::Failed("no sip.trunk configured to dial a number".into())
            })?;
            let host = trunk
                .uri
                .trim_start_matches("sip:")
                .trim_start_matches("sips:");
            format!("sip:{}@{}", request.to, host)
        };
        let callee = Uri::try_from(callee_text.as_str())
            .map_err(|e| DialError::Failed(format!("bad destination {callee_text}: {e}")))?;
        let caller_user = request
            .caller_id
            .clone()
            .or_else(|| trunk.and_then(|t| t.caller_id.clone()))
            .unwrap_or_else(|| "touchtone".into());
        let local_uri = inner
            .local_uri(&caller_user)
            .map_err(|e| DialError::Failed(format!("bad caller ID {caller_user}: {e}")))?;
        let slot = CallSlot::take(&inner.active_calls, inner.config.max_calls)
            .ok_or_else(|| DialError::Failed("too many calls in progress".into()))?;
        let socket = inner
            .ports
            .bind()
            .map_err(|e| DialError::Failed(e.to_string()))?;
        let port = socket
            .local_addr()
            .map_err(|e| DialError::Failed(e.to_string()))?
            .port();
        let mut local_media = inner.offer_media(port);
        let credential = trunk.and_then(|t| {
            Some(Credential {
                username: t.username.clone()?,
                password: t.password.clone()?,
                realm: None,
                auth_username: None,
            })
        });
        let option = InviteOption {
            caller: local_uri.clone(),
            callee,
            contact: local_uri,
            content_type: Some("application/sdp".into()),
            offer: Some(local_media.render().into_bytes()),
            credential,
            ..Default::default()
        };
        let (state_tx, mut states) = inner.dialog_layer.new_dialog_state_channel();
        let (dialog, mut outcome) = inner
            .dialog_layer
            .do_invite_async(option, state_tx)
            .map_err(|e| DialError::Failed(e.to_string()))?;
        let ring_timeout = request
            .ring_timeout
            .unwrap_or(Duration::from_secs(inner.config.ring_timeout_secs));
        let deadline = tokio::time::sleep(ring_timeout);
        tokio::pin!(deadline);
        let mut give_up: Option<DialError> = None;
        // A closed state queue would make `recv` ready forever.
        let mut states_open = true;
        let result = loop {
            tokio::select! {
                r = &mut outcome => break r,
                state = states.recv(), if states_open => {
                    states_open = state.is_some();
                    if let Some(DialogState::Early(_, resp)) = &state
                        && matches!(resp.status_code.code(), 180 | 183)
                        && let Some(p) = &progress
                    {
                        let _ = p.try_send(DialProgress::Ringing);
                    }
                }
                _ = &mut deadline, if give_up.is_none() => {
                    give_up = Some(DialError::NoAnswer);
                    let _ = dialog.cancel().await;
                }
                _ = cancel.cancelled(), if give_up.is_none() => {
                    give_up = Some(DialError::Cancelled);
                    let _ = dialog.cancel().await;
                }
            }
        };
        let response = match result {
            Ok(Ok((_, Some(resp)))) => resp,
            Ok(Ok((_, None))) => return Err(give_up.unwrap_or(DialError::NoAnswer)),
            Ok(Err(e)) => {
                return Err(give_up.unwrap_or_else(|| match &e {
                    rsipstack::Error::DialogError(_, _, status) => status_error(status.code()),
                    _ => DialError::Failed(e.to_string()),
                }));
            }
            Err(e) => return Err(DialError::Failed(format!("INVITE task: {e}"))),
        };
        let code = response.status_code.code();
        if !(200..300).contains(&code) {
            return Err(give_up.unwrap_or_else(|| status_error(code)));
        }
        if let Some(reason) = give_up {
            // The answer crossed our CANCEL: end the call we did not want.
            let _ = dialog.bye().await;
            return Err(reason);
        }
        let (remote, codec, pt) = match take_answer(response.body(), &mut local_media) {
            Ok(answer) => answer,
            Err(e) => {
                let _ = dialog.bye().await;
                return Err(DialError::Failed(e));
            }
        };
        if let Some(p) = &progress {
            let _ = p.try_send(DialProgress::Answered);
        }
        let info = CallInfo {
            call_id: dialog.id().call_id.clone(),
            caller: Some(caller_user),
            caller_display_name: None,
            called: Some(request.to.clone()),
            inbound: false,
            remote_media: remote.address,
        };
        // Drain states already queued (early dialog noise) before handing over.
        while let Ok(s) = states.try_recv() {
            debug!(state = %s, "dial: state before hand-over");
        }
        start_call(
            inner,
            slot,
            dialog,
            states,
            socket,
            remote,
            codec,
            pt,
            local_media,
            info,
        )
        .map_err(|e| DialError::Failed(e.to_string()))
    }
}

/// Reads the SDP answer to our offer: the peer's media and the codec it
/// chose, which becomes the only one in `local_media`.
pub(super) fn take_answer(
    body: &[u8],
    local_media: &mut LocalMedia,
) -> Result<(RemoteMedia, Codec, u8), String> {
    let remote = RemoteMedia::parse(body).map_err(|e| format!("unusable SDP answer: {e}"))?;
    let (codec, pt) = remote
        .choose_codec()
        .map_err(|_| "the answer has no codec we offered".to_string())?;
    local_media.codecs = vec![(codec, pt)];
    Ok((remote, codec, pt))
}

fn status_error(code: u16) -> DialError {
    match code {
        486 | 600 => DialError::Busy,
        603 => DialError::Declined,
        408 | 480 => DialError::NoAnswer,
        487 => DialError::Cancelled,
        401 | 403 | 407 => DialError::AuthenticationFailed(code),
        _ => DialError::Rejected { status: code },
    }
}
