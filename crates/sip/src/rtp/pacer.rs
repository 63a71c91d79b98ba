//! The pacer: a few threads that send every call's next 20 ms of audio on
//! time, with one timer tick per thread for all calls, and read what each
//! call received on the same visit (after the tick's sends, so reading
//! never delays a send). This file has the handle that starts the threads
//! and hands each call's stream to one of them; `worker` has a thread's
//! loop and schedule, `uring` its batched I/O, `priority` its scheduling
//! priority and `stats` the counters they share. What a call sends and
//! receives is its `stream`.
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

use super::stream::OutboundStream;
use crate::g711;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

pub use super::stats::PacerStats;
pub use super::worker::PacerOptions;

struct Worker {
    /// `None` once dropped: an idle worker then wakes and exits at once.
    streams: Option<SyncSender<Arc<OutboundStream>>>,
    thread: Option<JoinHandle<()>>,
}

/// Owns the worker threads; dropping it stops them.
pub struct Pacer {
    workers: Vec<Worker>,
    next: AtomicUsize,
    stop: Arc<AtomicBool>,
    pub stats: Arc<PacerStats>,
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
                streams: Some(tx),
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
        let Some(streams) = &self.workers[i].streams else {
            return Err(PacerFull);
        };
        match streams.try_send(stream) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => Err(PacerFull),
        }
    }
}

impl Pacer {
    /// Stops the worker threads without waiting for them (they exit at
    /// their next tick, or within a second when idle).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for w in &mut self.workers {
            w.streams = None;
        }
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
    use crate::g711::Codec;
    use crate::rtp::packet::RtpPacket;
    use std::net::UdpSocket;
    use std::time::Duration;
    use std::time::Instant;
    use tokio::sync::oneshot;

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
        assert!(stream.connect(receiver.local_addr().unwrap()));
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
