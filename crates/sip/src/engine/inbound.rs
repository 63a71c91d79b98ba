//! Inbound calls: an INVITE checked, answered (or, for a late offer,
//! offered to and answered in the ACK), its media started and its
//! `Channel` handed to the call handler.

use super::dial::take_answer;
use super::{EngineInner, start_call};
use crate::call::{CallSlot, sdp_headers};
use crate::channel::CallInfo;
use crate::sdp::{LocalMedia, RemoteMedia, SdpError};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::headers::ToTypedHeader;
use rsipstack::sip::{HeadersExt, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use std::sync::Arc;
use tracing::{debug, warn};

/// Waits for the ACK that carries the answer to a late offer and returns
/// its body (empty if the ACK had none); `None` when the caller went away
/// first or the ACK never came (the transaction gives up after 64·T1).
async fn ack_of_late_offer(
    dialog: &InviteDialog,
    states: &mut DialogStateReceiver,
) -> Option<Vec<u8>> {
    loop {
        match states.recv().await? {
            DialogState::Confirmed(..) => {
                return Some(
                    dialog
                        .last_remote_ack()
                        .map(|ack| ack.body().to_vec())
                        .unwrap_or_default(),
                );
            }
            DialogState::Terminated(..) => return None,
            _ => {}
        }
    }
}

pub(super) async fn inbound_invite(inner: Arc<EngineInner>, mut tx: Transaction) {
    let req = tx.original.clone();
    if !inner.handler.accepts(req.uri.user()) {
        let _ = tx.reply(StatusCode::NotFound).await;
        return;
    }
    let Some(slot) = CallSlot::take(&inner.active_calls, inner.config.max_calls) else {
        let _ = tx.reply(StatusCode::ServiceUnavailable).await;
        return;
    };
    let content_type = req.header_value("Content-Type").unwrap_or_default();
    if !req.body().is_empty()
        && !content_type
            .to_ascii_lowercase()
            .starts_with("application/sdp")
    {
        let _ = tx.reply(StatusCode::UnsupportedMediaType).await;
        return;
    }
    // An INVITE without a body is a late offer (RFC 3261 §13.2.1, sent by
    // Cisco CUCM and others): we offer in the 200 OK, the ACK answers.
    let offer = if req.body().is_empty() {
        None
    } else {
        let remote = match RemoteMedia::parse(req.body()) {
            Ok(r) => r,
            Err(e) => {
                debug!(error = %e, "INVITE refused");
                let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                return;
            }
        };
        let (codec, payload_type) = match remote.choose_codec() {
            Ok(c) => c,
            Err(SdpError::NoCommonCodec) | Err(_) => {
                let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                return;
            }
        };
        Some((remote, codec, payload_type))
    };
    let socket = match inner.ports.bind() {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "no RTP port for an inbound call");
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
    };
    let port = match socket.local_addr() {
        Ok(a) => a.port(),
        Err(_) => {
            let _ = tx.reply(StatusCode::ServerInternalError).await;
            return;
        }
    };
    let Ok(contact) = inner.local_uri("touchtone") else {
        let _ = tx.reply(StatusCode::ServerInternalError).await;
        return;
    };
    let (state_tx, mut states) = inner.dialog_layer.new_dialog_state_channel();
    let server_dialog =
        match inner
            .dialog_layer
            .get_or_create_server_invite(&tx, state_tx, None, Some(contact))
        {
            Ok(d) => d,
            Err(e) => {
                debug!(error = %e, "cannot create dialog");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
    let mut handler_dialog = server_dialog.clone();
    tokio::spawn(async move {
        if let Err(e) = handler_dialog.handle(&mut tx).await {
            debug!(error = %e, "INVITE transaction");
        }
    });
    let dialog: InviteDialog = server_dialog;
    let _ = dialog.ringing(None, None);
    if !inner.answer_delay.is_zero() {
        let wait = tokio::time::sleep(inner.answer_delay);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                s = states.recv() => match s {
                    Some(DialogState::Terminated(..)) | None => {
                        inner.dialog_layer.remove_dialog(&dialog.id());
                        return;
                    }
                    _ => {}
                }
            }
        }
    }
    let caller_info = |remote: &RemoteMedia| CallInfo {
        call_id: dialog.id().call_id.clone(),
        caller: req
            .from_header()
            .ok()
            .and_then(|f| f.uri().ok())
            .and_then(|u| u.user().map(str::to_string)),
        caller_display_name: req
            .from_header()
            .ok()
            .and_then(|f| f.typed().ok())
            .and_then(|f| f.display_name),
        called: req.uri.user().map(str::to_string),
        inbound: true,
        remote_media: remote.address,
    };
    // Early offer: our answer goes out once the media is running. Late
    // offer: our offer went out in the 200 OK and the ACK answered it.
    let (remote, codec, payload_type, local_media, answer) = match offer {
        Some((remote, codec, payload_type)) => {
            let local_media = LocalMedia {
                codecs: vec![(codec, payload_type)],
                telephone_event: remote.telephone_event,
                direction: remote.direction.answer(),
                ..inner.offer_media(port)
            };
            let answer = local_media.render().into_bytes();
            (remote, codec, payload_type, local_media, Some(answer))
        }
        None => {
            let mut local_media = inner.offer_media(port);
            let offer = local_media.render().into_bytes();
            if let Err(e) = dialog.accept(Some(sdp_headers()), Some(offer)) {
                warn!(error = %e, "cannot answer");
                return;
            }
            let Some(ack) = ack_of_late_offer(&dialog, &mut states).await else {
                inner.dialog_layer.remove_dialog(&dialog.id());
                return;
            };
            match take_answer(&ack, &mut local_media) {
                Ok((remote, codec, payload_type)) => {
                    (remote, codec, payload_type, local_media, None)
                }
                Err(e) => {
                    // RFC 3264 §5: an unusable answer ends the call.
                    debug!(error = %e, "late offer: the ACK's answer is unusable");
                    let _ = dialog.bye().await;
                    inner.dialog_layer.remove_dialog(&dialog.id());
                    return;
                }
            }
        }
    };
    let info = caller_info(&remote);
    let channel = match start_call(
        &inner,
        slot,
        dialog.clone(),
        states,
        socket,
        remote,
        codec,
        payload_type,
        local_media,
        info,
    ) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "cannot start media");
            if answer.is_some() {
                let _ = dialog.reject(Some(StatusCode::ServiceUnavailable), None);
            } else {
                let _ = dialog.bye().await;
            }
            return;
        }
    };
    if let Some(answer) = answer
        && let Err(e) = dialog.accept(Some(sdp_headers()), Some(answer))
    {
        warn!(error = %e, "cannot answer");
    }
    // The handler owns the channel; dropping it when the flow returns
    // closes the command queue, which makes the call task send BYE.
    let handler = inner.handler.clone();
    tokio::spawn(async move { handler.handle(channel).await });
}
