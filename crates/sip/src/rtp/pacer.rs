//! The pacer: a few threads that send every call's next 20 ms of audio on
//! time, with one timer tick per thread for all calls, and read what each
//! call received on the same visit (after the tick's sends, so reading
//! never delays a send). This file has the call's side (`OutboundStream`:
//! what to send next, what was received), the shared counters and the
//! handle that starts the threads; `worker` has a thread's loop, `uring`
//! its batched I/O and `priority` its scheduling priority.
//!
//! Each worker thread ticks every 2 ms and owns ten slots; a call joins the
//! slot with the fewest calls (the soonest of those) and is visited once
//! per 20 ms, so one tick handles only a tenth of the calls however they
//! arrive. (Joining the next slot in time, as this once did, put every
//! call of a caller that starts one call per 20 ms into the same slot, and
//! that slot's tick then ran for milliseconds.) A call's schedule is
//! aligned to its slot, so the tick length adds no lateness; it only sets
//! how many wake-ups the thread pays for (500 per second). Packet `n` of a
//! call is due at `start + n·20 ms` on the monotonic clock; a late tick
//! catches up rather than shifting the schedule, so a long prompt never
//! drifts. Every send's lateness is recorded in a histogram for the
//! benchmark. Workers are plain threads, not tokio tasks, so that a busy
//! runtime cannot delay a tick.

use super::packet::{HEADER_LEN, write_header};
use super::session::Inbound;
use crate::g711::{self, Codec};
use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

pub const FRAME_SAMPLES: usize = 160;
pub(super) const FRAME: Duration = Duration::from_millis(20);
pub(super) const SLOTS: u64 = 10;
/// Histogram resolution and range for send lateness.
const BUCKET_MICROS: u64 = 10;
const BUCKETS: usize = 5000;

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

/// Counters and the lateness histogram, shared by all workers.
pub struct PacerStats {
    pub packets_sent: AtomicU64,
    /// Worker threads whose RTP goes through io_uring, and the packets
    /// they sent and read that way.
    pub io_uring_workers: AtomicUsize,
    pub ring_sends: AtomicU64,
    pub ring_receives: AtomicU64,
    /// Worker threads running at real-time priority now.
    pub realtime_workers: AtomicUsize,
    pub send_failures: AtomicU64,
    lateness: Box<[AtomicU64]>,
}

impl PacerStats {
    pub(super) fn new() -> Self {
        PacerStats {
            packets_sent: AtomicU64::new(0),
            io_uring_workers: AtomicUsize::new(0),
            realtime_workers: AtomicUsize::new(0),
            ring_sends: AtomicU64::new(0),
            ring_receives: AtomicU64::new(0),
            send_failures: AtomicU64::new(0),
            lateness: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(super) fn record_lateness(&self, late: Duration) {
        let bucket = ((late.as_micros() as u64) / BUCKET_MICROS).min(BUCKETS as u64 - 1);
        self.lateness[bucket as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The given quantile (0–1) of send lateness since start or the last
    /// reset, rounded up to 10 µs.
    pub fn lateness_quantile(&self, q: f64) -> Duration {
        let counts: Vec<u64> = self
            .lateness
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let target = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Duration::from_micros((i as u64 + 1) * BUCKET_MICROS);
            }
        }
        Duration::from_micros(BUCKETS as u64 * BUCKET_MICROS)
    }

    pub fn reset_lateness(&self) {
        for c in self.lateness.iter() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

struct Worker {
    streams: SyncSender<Arc<OutboundStream>>,
    thread: Option<JoinHandle<()>>,
}

/// Owns the worker threads; dropping it stops them.
pub struct Pacer {
    workers: Vec<Worker>,
    next: AtomicUsize,
    stop: Arc<AtomicBool>,
    pub stats: Arc<PacerStats>,
}

/// How the worker threads run.
#[derive(Debug, Clone, Copy)]
pub struct PacerOptions {
    /// Batch each thread's sends and receives through io_uring where the
    /// kernel allows it.
    pub io_uring: bool,
    /// Ask for real-time scheduling priority (see `priority`).
    pub realtime: bool,
}

/// What the pacer's own tests start with: both on, so they exercise the
/// ring where the kernel allows it (the engine takes both from its
/// configuration, where io_uring is off by default).
impl Default for PacerOptions {
    fn default() -> Self {
        PacerOptions {
            io_uring: true,
            realtime: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the media pacer is overloaded or stopped")]
pub struct PacerFull;

impl Pacer {
    /// Starts `threads` workers (at least one).
    pub fn start(threads: usize, options: PacerOptions) -> std::io::Result<Self> {
        g711::warm_up();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(PacerStats::new());
        let mut workers = Vec::new();
        for i in 0..threads.max(1) {
            let (tx, rx) = sync_channel(4096);
            let stop = stop.clone();
            let stats = stats.clone();
            let thread = std::thread::Builder::new()
                .name(format!("rtp-pacer-{i}"))
                .spawn(move || super::worker::run(rx, stop, stats, options))?;
            workers.push(Worker {
                streams: tx,
                thread: Some(thread),
            });
        }
        Ok(Pacer {
            workers,
            next: AtomicUsize::new(0),
            stop,
            stats,
        })
    }

    /// Starts sending a stream's frames (silence until audio is queued).
    pub fn add(&self, stream: Arc<OutboundStream>) -> Result<(), PacerFull> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        match self.workers[i].streams.try_send(stream) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => Err(PacerFull),
        }
    }
}

impl Pacer {
    /// Stops the worker threads without waiting for them (they exit at
    /// their next tick).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::rfc4733::{EventDeduplicator, TelephoneEvent};
    use crate::rtp::packet::RtpPacket;
    use std::time::Instant;

    /// A pacer, a receiving socket, and a PCMU stream towards it.
    fn loopback_stream() -> (Pacer, UdpSocket, Arc<OutboundStream>) {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.set_nonblocking(true).unwrap();
        let stream = OutboundStream::new(sender, receiver.local_addr().unwrap(), Codec::Pcmu, 0);
        (pacer, receiver, stream)
    }

    /// One packet as received, owned.
    struct Received {
        marker: bool,
        payload_type: u8,
        sequence: u16,
        timestamp: u32,
        ssrc: u32,
        payload: Vec<u8>,
    }

    /// Receives `n` packets; also returns how long that took from the first.
    fn receive(receiver: &UdpSocket, n: usize) -> (Vec<Received>, Duration) {
        let mut buf = [0u8; 512];
        let mut packets = Vec::new();
        let start = Instant::now();
        for _ in 0..n {
            let len = receiver.recv(&mut buf).unwrap();
            let p = RtpPacket::parse(&buf[..len]).unwrap();
            packets.push(Received {
                marker: p.marker,
                payload_type: p.payload_type,
                sequence: p.sequence,
                timestamp: p.timestamp,
                ssrc: p.ssrc,
                payload: p.payload.to_vec(),
            });
        }
        (packets, start.elapsed())
    }

    #[test]
    fn a_prompt_sequence_is_sent_back_to_back_at_twenty_milliseconds() {
        let (pacer, receiver, stream) = loopback_stream();
        // Two prompts of 250 samples: the second starts mid-packet.
        let (done_tx, done_rx) = oneshot::channel();
        stream.enqueue(Arc::from(vec![1u8; 250]), None);
        stream.enqueue(Arc::from(vec![2u8; 250]), Some(done_tx));
        pacer.add(stream.clone()).unwrap();
        let (packets, elapsed) = receive(&receiver, 10);
        stream.close();
        assert!(
            done_rx.blocking_recv().is_ok(),
            "the last prompt's completion fired"
        );
        // Marker on the first packet only; sequence +1 and timestamp +160.
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        for w in packets.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1));
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
            assert_eq!(w[1].ssrc, w[0].ssrc);
        }
        let audio: Vec<u8> = packets.iter().flat_map(|p| p.payload.clone()).collect();
        assert!(audio[..250].iter().all(|&b| b == 1));
        assert!(audio[250..500].iter().all(|&b| b == 2));
        assert!(
            audio[500..].iter().all(|&b| b == 0xFF),
            "silence after the prompts"
        );
        // Nine intervals of 20 ms after the first packet arrived.
        assert!(elapsed >= Duration::from_millis(175), "{elapsed:?}");
        // Not connected: sent through the ring with the address.
        sent_through_the_ring_where_io_uring_works(&pacer, 10);
    }

    #[test]
    fn a_connected_stream_is_sent_through_the_ring_where_io_uring_works() {
        let (pacer, receiver, stream) = loopback_stream();
        stream
            .socket
            .connect(receiver.local_addr().unwrap())
            .unwrap();
        stream.state().connected = true;
        stream.enqueue(Arc::from(vec![7u8; 400]), None);
        pacer.add(stream.clone()).unwrap();
        let (packets, elapsed) = receive(&receiver, 10);
        stream.close();
        for w in packets.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1));
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
        }
        let audio: Vec<u8> = packets.iter().flat_map(|p| p.payload.clone()).collect();
        assert!(audio[..400].iter().all(|&b| b == 7) && audio[400..].iter().all(|&b| b == 0xFF));
        assert!(elapsed >= Duration::from_millis(175), "{elapsed:?}");
        sent_through_the_ring_where_io_uring_works(&pacer, 10);
    }

    /// Where this kernel allows io_uring, at least `n` packets went
    /// through the pacer's ring; elsewhere none did.
    #[track_caller]
    fn sent_through_the_ring_where_io_uring_works(pacer: &Pacer, n: u64) {
        let ring_sends = pacer.stats.ring_sends.load(Ordering::Relaxed);
        if crate::rtp::uring::usable() {
            assert!(ring_sends >= n, "{ring_sends} sent through the ring");
        } else {
            assert_eq!(ring_sends, 0);
        }
    }

    #[test]
    fn a_stream_that_suppresses_silence_sends_only_prompts_and_key_presses() {
        let (pacer, receiver, stream) = loopback_stream();
        {
            let mut st = stream.state();
            st.send_silence = false;
            st.telephone_event = Some(101);
        }
        stream.enqueue(Arc::from(vec![3u8; 400]), None);
        pacer.add(stream.clone()).unwrap();
        let quiet = |receiver: &UdpSocket| {
            receiver
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let silent = receiver.recv(&mut [0u8; 512]).is_err();
            receiver
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            silent
        };
        // 400 samples are three packets, the last filled out with silence.
        let (spurt, _) = receive(&receiver, 3);
        assert!(spurt[0].marker && !spurt[1].marker && !spurt[2].marker);
        assert!(spurt[2].payload[80..].iter().all(|&b| b == 0xFF));
        assert!(quiet(&receiver), "nothing is sent while nothing plays");
        // The next talkspurt: marker again, the sequence runs on, the
        // timestamp has counted the silent 20 ms frames.
        stream.enqueue(Arc::from(vec![4u8; 160]), None);
        let (next, _) = receive(&receiver, 1);
        assert!(next[0].marker && next[0].payload.iter().all(|&b| b == 4));
        assert_eq!(next[0].sequence, spurt[2].sequence.wrapping_add(1));
        let skipped = next[0].timestamp.wrapping_sub(spurt[2].timestamp);
        assert!(
            skipped % 160 == 0 && skipped >= 160 * 10,
            "timestamp moved {skipped} samples over a pause of 200 ms or more"
        );
        assert!(quiet(&receiver));
        // A key press: its event packets (2 growing, 3 end), then quiet.
        let (done_tx, done_rx) = oneshot::channel();
        assert!(stream.send_events(&[5], 40, 40, done_tx));
        let (events, _) = receive(&receiver, 5);
        assert!(events.iter().all(|p| p.payload_type == 101));
        assert!(events[0].marker && events[1..].iter().all(|p| !p.marker));
        assert_eq!(events[0].sequence, next[0].sequence.wrapping_add(1));
        assert!(done_rx.blocking_recv().is_ok());
        assert!(quiet(&receiver), "no silence after the key press");
        stream.close();
    }

    #[test]
    fn lateness_quantiles() {
        let stats = PacerStats::new();
        for us in 0..100 {
            stats.record_lateness(Duration::from_micros(us * 10));
        }
        assert_eq!(stats.lateness_quantile(0.5), Duration::from_micros(500));
        assert_eq!(stats.lateness_quantile(0.99), Duration::from_micros(990));
    }

    #[test]
    fn key_presses_go_out_as_rfc4733_events() {
        let (pacer, receiver, stream) = loopback_stream();
        stream.state().telephone_event = Some(101);
        let (done_tx, done_rx) = oneshot::channel();
        assert!(stream.send_events(&[4, 11], 100, 60, done_tx));
        pacer.add(stream.clone()).unwrap();
        let mut dedupe = EventDeduplicator::default();
        let mut keys = String::new();
        let (packets, _) = receive(&receiver, 24);
        stream.close();
        assert!(done_rx.blocking_recv().is_ok());
        for w in packets.windows(2) {
            assert_eq!(
                w[1].sequence,
                w[0].sequence.wrapping_add(1),
                "sequence numbers run on"
            );
        }
        // First key: 5 growing packets then 3 end packets, one timestamp, marker first.
        let first: Vec<_> = packets.iter().take(8).collect();
        assert!(
            first
                .iter()
                .all(|p| p.payload_type == 101 && p.timestamp == first[0].timestamp)
        );
        assert!(first[0].marker && first[1..].iter().all(|p| !p.marker));
        let events: Vec<TelephoneEvent> = first
            .iter()
            .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
            .collect();
        assert_eq!(
            events.iter().map(|e| e.duration).collect::<Vec<_>>(),
            vec![160, 320, 480, 640, 800, 800, 800, 800]
        );
        assert_eq!(events.iter().filter(|e| e.end).count(), 3);
        for p in &packets {
            if let Some(ev) = TelephoneEvent::parse(&p.payload).filter(|_| p.payload.len() == 4)
                && let Some(d) = dedupe.on_packet(p.sequence, p.timestamp, &ev)
            {
                keys.push(d.as_char());
            }
        }
        assert_eq!(keys, "4#");
        // Audio (PCMU silence) fills the gap between the keys.
        assert!(packets.iter().any(|p| p.payload_type == 0));
    }
}
