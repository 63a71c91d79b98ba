//! One call's media stream, both halves, as its pacer thread drives it:
//! [`OutboundStream`] builds the call's next 20 ms frame (queued prompts,
//! RFC 4733 key presses, or silence) and holds the receiving half,
//! `Inbound`, which the pacer runs on the same visit to turn what arrived
//! into digits. [`MediaParams`] is what SDP negotiated for it. The pacer
//! (`pacer`, `worker`) only schedules; the call's state is all here.
//!
//! Receiving does no allocation per packet: one buffer per pacer thread,
//! RFC 4733 events de-duplicated in place, in-band detection only when the
//! peer did not negotiate telephone-event (or when configured to run
//! always). Symmetric RTP (RFC 4961): the first valid packet, and any later
//! change of SSRC, latches the send address to where the peer's packets
//! come from, so peers behind NAT hear us. With strict RTP (the default)
//! the first latch also connects the socket to that source: from then on
//! the kernel drops packets from anyone else (no injected key presses), and
//! sends and receives skip the per-packet address lookups. A re-INVITE that
//! moves the peer's media disconnects it and learns again.

use super::packet::{HEADER_LEN, RtpPacket, write_header};
use crate::dtmf::goertzel::DtmfDetector;
use crate::dtmf::rfc4733::{EventDeduplicator, TelephoneEvent};
use crate::dtmf::{Digit, DigitSource};
use crate::g711::{self, Codec};
use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Samples in one 20 ms G.711 frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

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
    /// telephone-event payload type we send with (the peer's SDP).
    pub telephone_event: Option<u8>,
    /// telephone-event payload type our own SDP declared, which is what a
    /// peer following RFC 3264 sends us; differs from `telephone_event`
    /// only when we offered and the answer renumbered it.
    pub own_telephone_event: Option<u8>,
    pub in_band: InBandDtmf,
    /// Strict RTP: connect the socket to the first source heard.
    pub strict: bool,
    /// Send silence while nothing plays (false: RFC 3551 silence
    /// suppression, nothing is sent between prompts and key presses).
    pub send_silence: bool,
}

/// Per-call receive counters (read by tests and the benchmark).
#[derive(Debug, Default)]
pub struct MediaCounters {
    pub packets_received: AtomicU64,
    pub packets_invalid: AtomicU64,
    /// Milliseconds since the session started at which the last packet came.
    pub last_packet_ms: AtomicU64,
}

/// Audio queued on one call, played in order without gaps.
struct Playing {
    audio: Arc<[u8]>,
    offset: usize,
    done: Option<oneshot::Sender<()>>,
}

/// What the pacer needs to send one call's audio; shared with the call's
/// receive task (which latches the remote address) and its `Channel`.
pub struct OutboundStream {
    socket: UdpSocket,
    state: Mutex<StreamState>,
    /// The receiving half, read by the pacer thread on each visit.
    inbound: Mutex<Option<Inbound>>,
    closed: AtomicBool,
}

pub struct StreamState {
    pub remote: SocketAddr,
    /// False while the peer has put us on hold (sendonly / inactive).
    pub sending: bool,
    pub codec: Codec,
    pub payload_type: u8,
    /// The socket is connected to `remote` (strict RTP, after latching).
    pub(crate) connected: bool,
    /// Send silence while nothing is queued (false: send nothing then,
    /// RFC 3551 §4.1 silence suppression).
    pub(crate) send_silence: bool,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    first_packet: bool,
    queue: VecDeque<Playing>,
    /// Payload type of telephone-event, when the peer negotiated it.
    pub telephone_event: Option<u8>,
    events: VecDeque<OutgoingEvent>,
}

impl StreamState {
    /// Writes the next packet's header into `packet` and moves the stream
    /// on by one packet: sequence +1, timestamp +160 (RFC 3550 §5.1; an
    /// event packet carries its event's start `timestamp` instead).
    fn next_header(
        &mut self,
        packet: &mut [u8; HEADER_LEN + FRAME_SAMPLES],
        marker: bool,
        payload_type: u8,
        timestamp: u32,
    ) {
        let mut header = [0u8; HEADER_LEN];
        write_header(
            &mut header,
            marker,
            payload_type,
            self.sequence,
            timestamp,
            self.ssrc,
        );
        packet[..HEADER_LEN].copy_from_slice(&header);
        self.first_packet = false;
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
    }
}

/// A key press being sent as RFC 4733 events (§2.5.1: one timestamp for the
/// whole event, duration growing each packet, the end packet sent three
/// times).
struct OutgoingEvent {
    code: u8,
    frames: u16,
    sent: u16,
    ends_sent: u8,
    gap_frames: u16,
    start_timestamp: Option<u32>,
    done: Option<oneshot::Sender<()>>,
}

impl OutboundStream {
    pub fn new(socket: UdpSocket, remote: SocketAddr, codec: Codec, payload_type: u8) -> Arc<Self> {
        Arc::new(OutboundStream {
            socket,
            state: Mutex::new(StreamState {
                remote,
                sending: true,
                codec,
                payload_type,
                connected: false,
                send_silence: true,
                // RFC 3550 §5.1: random SSRC, initial sequence and timestamp.
                ssrc: rand::random(),
                sequence: rand::random(),
                timestamp: rand::random(),
                first_packet: true,
                queue: VecDeque::new(),
                telephone_event: None,
                events: VecDeque::new(),
            }),
            inbound: Mutex::new(None),
            closed: AtomicBool::new(false),
        })
    }

    pub(crate) fn set_inbound(&self, inbound: Inbound) {
        *self.inbound.lock().unwrap_or_else(|e| e.into_inner()) = Some(inbound);
    }

    /// Reads what arrived since the last visit.
    pub(super) fn receive(&self, buf: &mut [u8]) {
        let mut inbound = self.inbound.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inbound) = inbound.as_mut() {
            inbound.drain(&self.socket, self, buf);
        }
    }

    /// Connects the socket to `peer`: true when it is now connected.
    pub(crate) fn connect(&self, peer: SocketAddr) -> bool {
        match self.socket.connect(peer) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "RTP socket not connected to its peer");
                false
            }
        }
    }

    /// Undoes `connect` (the peer's media moved): packets from any source
    /// are read again and the next one latches.
    pub(crate) fn relearn_source(&self) {
        // The receiving half stays locked until the socket is
        // disconnected, so no packet is read and latched in between (it
        // would latch the old peer again, or, read by the ring, an unknown
        // source).
        let mut inbound = self.inbound.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inbound) = inbound.as_mut() {
            inbound.forget_source();
        }
        let mut st = self.state();
        if st.connected {
            // connect(2) with AF_UNSPEC dissolves a UDP socket's
            // association (std has no call for it). Linux keeps the local
            // port because it was bound explicitly (the engine's RTP range
            // never binds port 0, whose port a disconnect would release).
            let unspec = libc::sockaddr {
                sa_family: libc::AF_UNSPEC as libc::sa_family_t,
                sa_data: [0; 14],
            };
            // SAFETY: the fd is our open socket and the address is a valid
            // sockaddr of the length given.
            let rc = unsafe {
                libc::connect(
                    self.socket.as_raw_fd(),
                    &unspec,
                    std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
                )
            };
            st.connected = rc != 0;
        }
    }

    pub fn state(&self) -> MutexGuard<'_, StreamState> {
        // A panic while holding this lock would be a bug in this file; the
        // state stays usable (it is plain counters and a queue).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues audio; `done` fires once its last sample has been sent.
    pub fn enqueue(&self, audio: Arc<[u8]>, done: Option<oneshot::Sender<()>>) {
        self.state().queue.push_back(Playing {
            audio,
            offset: 0,
            done,
        });
    }

    /// Queues key presses to send as RFC 4733 events: each `press_ms`
    /// long with `gap_ms` of audio after it. `done` fires after the last.
    /// Returns false (and queues nothing) when the peer did not negotiate
    /// telephone-event.
    pub fn send_events(
        &self,
        codes: &[u8],
        press_ms: u32,
        gap_ms: u32,
        done: oneshot::Sender<()>,
    ) -> bool {
        let mut st = self.state();
        if st.telephone_event.is_none() || codes.is_empty() {
            return false;
        }
        let frames = |ms: u32| (ms / 20).clamp(1, u32::from(u16::MAX)) as u16;
        let mut done = Some(done);
        for (i, &code) in codes.iter().enumerate() {
            st.events.push_back(OutgoingEvent {
                code,
                frames: frames(press_ms),
                sent: 0,
                ends_sent: 0,
                gap_frames: frames(gap_ms),
                start_timestamp: None,
                done: if i + 1 == codes.len() {
                    done.take()
                } else {
                    None
                },
            });
        }
        true
    }

    /// Stops whatever is playing or queued (barge-in). Pending `done`
    /// senders are dropped, which their receivers see as "interrupted".
    pub fn clear(&self) {
        self.state().queue.clear();
    }

    /// Drops queued key presses too (their `done` receivers see an error).
    fn clear_all(&self) {
        let mut st = self.state();
        st.queue.clear();
        st.events.clear();
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.clear_all();
        // Drops the digit sender and detector now rather than when the
        // pacer next visits.
        *self.inbound.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Builds the next RFC 4733 packet into `packet` if an event is being
    /// sent, returning its length; None when this frame carries audio.
    fn event_frame(
        st: &mut StreamState,
        packet: &mut [u8; HEADER_LEN + FRAME_SAMPLES],
    ) -> Option<usize> {
        let te = st.telephone_event?;
        let timestamp = st.timestamp;
        let ev = st.events.front_mut()?;
        let first = ev.start_timestamp.is_none();
        let start = *ev.start_timestamp.get_or_insert(timestamp);
        let (end, duration) = if ev.sent < ev.frames {
            ev.sent += 1;
            (false, ev.sent)
        } else if ev.ends_sent < 3 {
            ev.ends_sent += 1;
            (true, ev.frames)
        } else {
            if ev.gap_frames > 0 {
                ev.gap_frames -= 1;
            }
            if ev.gap_frames == 0
                && let Some(mut finished) = st.events.pop_front()
                && let Some(done) = finished.done.take()
            {
                let _ = done.send(());
            }
            return None;
        };
        let code = ev.code;
        st.next_header(packet, first, te, start);
        let mut payload = [0u8; 4];
        crate::dtmf::rfc4733::TelephoneEvent {
            event: code,
            end,
            volume: 10,
            duration: duration.saturating_mul(FRAME_SAMPLES as u16),
        }
        .write(&mut payload);
        packet[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&payload);
        Some(HEADER_LEN + 4)
    }

    /// Builds the next 20 ms of audio (queued prompts, then silence) into
    /// `packet`, returning its length; None when nothing is queued and the
    /// stream suppresses silence. A suppressed frame still moves the
    /// timestamp on (it counts sampling instants, RFC 3550 §5.1) but not
    /// the sequence number, and the next packet sent carries the marker
    /// bit that starts a talkspurt (RFC 3551 §4.1).
    fn audio_frame(
        st: &mut StreamState,
        packet: &mut [u8; HEADER_LEN + FRAME_SAMPLES],
    ) -> Option<usize> {
        if !st.send_silence && st.queue.is_empty() {
            st.timestamp = st.timestamp.wrapping_add(FRAME_SAMPLES as u32);
            st.first_packet = true;
            return None;
        }
        let (marker, payload_type, timestamp) = (st.first_packet, st.payload_type, st.timestamp);
        st.next_header(packet, marker, payload_type, timestamp);
        let codec = st.codec;
        let payload = &mut packet[HEADER_LEN..];
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let Some(front) = st.queue.front_mut() else {
                break;
            };
            let n = (front.audio.len() - front.offset).min(FRAME_SAMPLES - filled);
            let src = &front.audio[front.offset..front.offset + n];
            match codec {
                Codec::Pcmu => payload[filled..filled + n].copy_from_slice(src),
                Codec::Pcma => g711::ulaw_to_alaw_into(src, &mut payload[filled..filled + n]),
            }
            front.offset += n;
            filled += n;
            if front.offset >= front.audio.len()
                && let Some(mut finished) = st.queue.pop_front()
                && let Some(done) = finished.done.take()
            {
                let _ = done.send(());
            }
        }
        payload[filled..].fill(codec.silence());
        Some(HEADER_LEN + FRAME_SAMPLES)
    }

    /// Builds the next 20 ms frame into `packet`: a key press's event
    /// packet while one is being sent, audio otherwise. Returns its length
    /// and where to send it (None for a connected socket), or None when
    /// the peer has put us on hold (the stream still moves on) or the
    /// frame is suppressed silence.
    pub(super) fn next_frame(
        &self,
        packet: &mut [u8; HEADER_LEN + FRAME_SAMPLES],
    ) -> Option<(usize, Option<SocketAddr>)> {
        let mut st = self.state();
        let len = match Self::event_frame(&mut st, packet) {
            Some(len) => len,
            None => Self::audio_frame(&mut st, packet)?,
        };
        st.sending
            .then_some((len, (!st.connected).then_some(st.remote)))
    }

    /// Sends a frame with one system call. Returns false if the send
    /// failed (full socket buffer, unreachable peer): the frame is
    /// dropped, as it would be on any lossy network.
    pub(super) fn send_now(&self, packet: &[u8], remote: Option<SocketAddr>) -> bool {
        match remote {
            Some(remote) => self.socket.send_to(packet, remote).is_ok(),
            // Connected: the kernel skips the route and socket lookups.
            None => self.socket.send(packet).is_ok(),
        }
    }

    /// Handles one datagram read for this stream by io_uring.
    pub(super) fn received(&self, bytes: &[u8], from: SocketAddr) {
        let mut inbound = self.inbound.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inbound) = inbound.as_mut() {
            inbound.handle(bytes, from, self);
        }
    }

    pub(super) fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// The receiving half of a call's media, driven by its pacer thread.
pub(crate) struct Inbound {
    params: MediaParams,
    digits: mpsc::Sender<(Digit, DigitSource)>,
    counters: Arc<MediaCounters>,
    started: Instant,
    events: EventDeduplicator,
    detector: Option<DtmfDetector>,
    latched_ssrc: Option<u32>,
}

/// At most this many packets are read per visit (a burst beyond it waits
/// for the next visit, 20 ms later).
const READS_PER_VISIT: usize = 8;

impl Inbound {
    pub(super) fn new(
        params: MediaParams,
        digits: mpsc::Sender<(Digit, DigitSource)>,
        counters: Arc<MediaCounters>,
        started: Instant,
    ) -> Self {
        let run_detector = match params.in_band {
            InBandDtmf::Always => true,
            InBandDtmf::Never => false,
            InBandDtmf::Auto => params.telephone_event.is_none(),
        };
        Inbound {
            params,
            digits,
            counters,
            started,
            events: EventDeduplicator::default(),
            detector: run_detector.then(DtmfDetector::new),
            latched_ssrc: None,
        }
    }

    /// Reads and handles what has arrived on `socket` (non-blocking).
    pub(crate) fn drain(&mut self, socket: &UdpSocket, outbound: &OutboundStream, buf: &mut [u8]) {
        for _ in 0..READS_PER_VISIT {
            match socket.recv_from(buf) {
                Ok((n, from)) => self.handle(&buf[..n], from, outbound),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                // ICMP port unreachable surfaces here on Linux; keep going.
                Err(_) => continue,
            }
        }
    }

    /// Forgets the latched source, so the next packet latches again.
    pub(crate) fn forget_source(&mut self) {
        self.latched_ssrc = None;
    }

    pub(crate) fn handle(&mut self, bytes: &[u8], from: SocketAddr, outbound: &OutboundStream) {
        let Ok(packet) = RtpPacket::parse(bytes) else {
            self.counters
                .packets_invalid
                .fetch_add(1, Ordering::Relaxed);
            return;
        };
        let is_event = Some(packet.payload_type) == self.params.telephone_event
            || Some(packet.payload_type) == self.params.own_telephone_event;
        let is_audio = packet.payload_type == self.params.payload_type;
        if !is_event && !is_audio {
            self.counters
                .packets_invalid
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.counters
            .packets_received
            .fetch_add(1, Ordering::Relaxed);
        self.counters
            .last_packet_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let codec = {
            let mut st = outbound.state();
            if self.latched_ssrc != Some(packet.ssrc) {
                self.latched_ssrc = Some(packet.ssrc);
                st.remote = from;
                if self.params.strict && !st.connected {
                    st.connected = outbound.connect(from);
                }
            }
            st.codec
        };
        if is_event {
            if let Some(ev) = TelephoneEvent::parse(packet.payload)
                && let Some(d) = self
                    .events
                    .on_packet(packet.sequence, packet.timestamp, &ev)
            {
                let _ = self.digits.try_send((d, DigitSource::Rfc4733));
            }
        } else if let Some(det) = self.detector.as_mut() {
            let digits = &self.digits;
            det.feed(packet.payload.iter().map(|&b| codec.decode(b)), |d| {
                let _ = digits.try_send((d, DigitSource::InBand));
            });
        }
    }
}
