//! One call's media: the RTP socket, the outbound stream handed to the pacer,
//! and the receive task that turns incoming packets into digits.
//!
//! Receiving does no allocation per packet: one buffer per call, RFC 4733
//! events de-duplicated in place, in-band detection only when the peer did
//! not negotiate telephone-event (or when configured to run always).
//! Symmetric RTP (RFC 4961): the first valid packet, and any later change of
//! SSRC, latches the send address to where the peer's packets come from, so
//! peers behind NAT hear us.

use super::pacer::{OutboundStream, Pacer, PacerFull};
use super::packet::RtpPacket;
use crate::dtmf::goertzel::DtmfDetector;
use crate::dtmf::rfc4733::{EventDeduplicator, TelephoneEvent};
use crate::dtmf::{Digit, DigitSource};
use crate::g711::Codec;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// When to run the in-band detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InBandDtmf {
    /// Only when the peer did not offer telephone-event.
    #[default]
    Auto,
    Always,
    Never,
}

/// What was negotiated for the stream.
#[derive(Debug, Clone, Copy)]
pub struct MediaParams {
    pub remote: SocketAddr,
    pub codec: Codec,
    pub payload_type: u8,
    pub telephone_event: Option<u8>,
    pub in_band: InBandDtmf,
}

/// Per-call receive counters (read by tests and the benchmark).
#[derive(Debug, Default)]
pub struct MediaCounters {
    pub packets_received: AtomicU64,
    pub packets_invalid: AtomicU64,
    /// Milliseconds since the session started at which the last packet came.
    pub last_packet_ms: AtomicU64,
}

pub struct MediaSession {
    pub outbound: Arc<OutboundStream>,
    pub local: SocketAddr,
    pub counters: Arc<MediaCounters>,
    pub started: Instant,
    cancel: CancellationToken,
}

impl MediaSession {
    /// Starts sending (silence until a prompt is queued) and receiving.
    /// Must be called inside a tokio runtime.
    pub fn start(
        socket: UdpSocket,
        params: MediaParams,
        pacer: &Pacer,
        digits: mpsc::Sender<(Digit, DigitSource)>,
    ) -> Result<Self, std::io::Error> {
        let local = socket.local_addr()?;
        let send_socket = socket.try_clone()?;
        // Registered for readability only: a tokio UdpSocket also asks for
        // writability, and then every packet the pacer sends on this
        // socket's twin (same file) wakes the runtime when its buffer is
        // freed; that was a third of the runtime's work under load.
        // SAFETY: a std UdpSocket owns its descriptor and keeps it open and
        // unchanged for as long as the AsyncFd owns the socket.
        let receive_socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        let outbound = OutboundStream::new(
            send_socket,
            params.remote,
            params.codec,
            params.payload_type,
        );
        outbound.state().telephone_event = params.telephone_event;
        pacer
            .add(outbound.clone())
            .map_err(|PacerFull| std::io::Error::other("media pacer is overloaded"))?;
        let cancel = CancellationToken::new();
        let counters = Arc::new(MediaCounters::default());
        let started = Instant::now();
        tokio::spawn(receive(
            receive_socket,
            params,
            outbound.clone(),
            digits,
            counters.clone(),
            started,
            cancel.clone(),
        ));
        Ok(MediaSession {
            outbound,
            local,
            counters,
            started,
            cancel,
        })
    }

    /// Applies a re-negotiation (re-INVITE): new address, codec or hold.
    pub fn update(&self, remote: SocketAddr, codec: Codec, payload_type: u8, sending: bool) {
        let mut st = self.outbound.state();
        st.remote = remote;
        st.codec = codec;
        st.payload_type = payload_type;
        st.sending = sending;
    }

    pub fn stop(&self) {
        self.outbound.close();
        self.cancel.cancel();
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn receive(
    socket: AsyncFd<UdpSocket>,
    params: MediaParams,
    outbound: Arc<OutboundStream>,
    digits: mpsc::Sender<(Digit, DigitSource)>,
    counters: Arc<MediaCounters>,
    started: Instant,
    cancel: CancellationToken,
) {
    let mut buf = [0u8; 2048];
    let mut events = EventDeduplicator::default();
    let run_detector = match params.in_band {
        InBandDtmf::Always => true,
        InBandDtmf::Never => false,
        InBandDtmf::Auto => params.telephone_event.is_none(),
    };
    let mut detector = run_detector.then(DtmfDetector::new);
    let mut latched_ssrc: Option<u32> = None;
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        let (n, from) = tokio::select! {
            ready = socket.readable() => {
                let Ok(mut guard) = ready else { return };
                match guard.try_io(|s| s.get_ref().recv_from(&mut buf)) {
                    Ok(Ok(r)) => r,
                    // ICMP port unreachable surfaces here on Linux; keep going.
                    Ok(Err(_)) => continue,
                    // Spurious readiness: wait again.
                    Err(_would_block) => continue,
                }
            },
            _ = &mut cancelled => return,
        };
        let Ok(packet) = RtpPacket::parse(&buf[..n]) else {
            counters.packets_invalid.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let codec = outbound.state().codec;
        let is_event = Some(packet.payload_type) == params.telephone_event;
        let is_audio = packet.payload_type == params.payload_type;
        if !is_event && !is_audio {
            counters.packets_invalid.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        counters.packets_received.fetch_add(1, Ordering::Relaxed);
        counters
            .last_packet_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if latched_ssrc != Some(packet.ssrc) {
            latched_ssrc = Some(packet.ssrc);
            outbound.state().remote = from;
        }
        if is_event {
            if let Some(ev) = TelephoneEvent::parse(packet.payload)
                && let Some(d) = events.on_packet(packet.sequence, packet.timestamp, &ev)
            {
                let _ = digits.try_send((d, DigitSource::Rfc4733));
            }
        } else if let Some(det) = detector.as_mut() {
            det.feed(packet.payload.iter().map(|&b| codec.decode(b)), |d| {
                let _ = digits.try_send((d, DigitSource::InBand));
            });
        }
    }
}
