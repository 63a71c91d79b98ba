//! A pacer thread: its calls, spread over ten slots, and the loop that
//! sends each call's next frame on its slot's tick and reads what the
//! call received, through io_uring when the kernel allows it (`uring`) or
//! with one system call per packet.

use super::packet::HEADER_LEN;
use super::priority::Priority;
use super::stats::PacerStats;
use super::stream::{FRAME_SAMPLES, OutboundStream};
use super::uring::{Completion, RtpRing};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A call's packets are 20 ms apart.
pub(super) const FRAME: Duration = Duration::from_millis(20);
/// A thread's calls are spread over this many slots, one visited per tick
/// (so a tick is 2 ms).
pub(super) const SLOTS: u64 = 10;

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

/// How a worker reads a call's socket.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// `recv_from` on each visit (there is no ring, or the call's receive
    /// is not armed yet).
    Polling,
    /// A multishot receive is armed on the ring.
    Armed,
    /// Its cancellation is on the way (the call ended); datagrams still
    /// completing are dropped.
    Cancelling,
}

/// A call as a worker holds it.
struct Entry {
    stream: Arc<OutboundStream>,
    /// The frame being sent; boxed so a pending ring send's pointers stay
    /// put while the slab grows.
    out: Box<Outgoing>,
    reading: Reading,
}

/// A call's frame on its way out, and where to when its socket is not
/// connected.
struct Outgoing {
    packet: [u8; HEADER_LEN + FRAME_SAMPLES],
    to: Option<socket2::SockAddr>,
}

/// One pacer thread's state: its calls by key (the key is also the
/// `user_data` of a call's armed receive), the ten slots of keys, and the
/// ring when io_uring is in use.
struct WorkerLoop {
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    slots: Vec<Vec<u32>>,
    ring: Option<RtpRing>,
    stats: Arc<PacerStats>,
    receive_buffer: Vec<u8>,
}

impl WorkerLoop {
    /// No call on any slot (and so nothing to send or read).
    fn is_idle(&self) -> bool {
        self.slots.iter().all(Vec::is_empty)
    }

    fn new(stats: Arc<PacerStats>, io_uring: bool) -> Self {
        let ring = if io_uring {
            match RtpRing::new() {
                Ok(ring) => {
                    stats.io_uring_workers.fetch_add(1, Ordering::Relaxed);
                    Some(ring)
                }
                Err(e) => {
                    tracing::info!(error = %e, "io_uring unavailable: RTP uses one system call per packet");
                    None
                }
            }
        } else {
            None
        };
        WorkerLoop {
            entries: Vec::new(),
            free: Vec::new(),
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            ring,
            stats,
            receive_buffer: vec![0u8; 2048],
        }
    }

    /// Adds a call to the slot with the fewest calls, the soonest from
    /// tick `from` on among equals.
    fn add(&mut self, stream: Arc<OutboundStream>, from: u64) {
        let slot = (from..from + SLOTS)
            .map(|t| (t % SLOTS) as usize)
            .min_by_key(|&i| self.slots[i].len())
            .unwrap_or(0);
        let entry = Entry {
            stream,
            out: Box::new(Outgoing {
                packet: [0u8; HEADER_LEN + FRAME_SAMPLES],
                to: None,
            }),
            reading: Reading::Polling,
        };
        let fd = entry.stream.fd();
        let key = match self.free.pop() {
            Some(key) => {
                self.entries[key as usize] = Some(entry);
                key
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as u32
            }
        };
        if let Some(ring) = self.ring.as_mut() {
            ring.register(key, fd);
        }
        self.slots[slot].push(key);
    }

    /// Frees a call's place in the slab (its socket closes with the last
    /// reference, and the ring's).
    fn release(
        entries: &mut [Option<Entry>],
        free: &mut Vec<u32>,
        ring: Option<&mut RtpRing>,
        key: u32,
    ) {
        if let Some(slot) = entries.get_mut(key as usize)
            && slot.take().is_some()
        {
            if let Some(ring) = ring {
                ring.unregister(key);
            }
            free.push(key);
        }
    }

    /// Takes the slot's ended calls off it. A call with a receive armed
    /// stays in the slab (its socket open) until the ring says the
    /// receive has ended, so the port is not reused under it.
    fn retire_closed(&mut self, slot: usize) {
        let mut keys = std::mem::take(&mut self.slots[slot]);
        keys.retain(|&key| {
            let Some(entry) = self.entries[key as usize].as_mut() else {
                return false;
            };
            if !entry.stream.is_closed() {
                return true;
            }
            match entry.reading {
                Reading::Polling => {
                    Self::release(&mut self.entries, &mut self.free, self.ring.as_mut(), key)
                }
                Reading::Armed => {
                    // If the cancellation cannot be queued the socket stays
                    // open until the ring is dropped with the thread.
                    entry.reading = Reading::Cancelling;
                    if let Some(ring) = self.ring.as_mut() {
                        ring.cancel_receive(key);
                    }
                }
                // Only an ended call's receive is cancelled: it is off
                // every slot already.
                Reading::Cancelling => {}
            }
            false
        });
        self.slots[slot] = keys;
    }

    /// Sends the next frame of every call in `slot`, recording the
    /// lateness of each send made at once; returns how many were queued on
    /// the ring (their lateness is taken once it has sent them), sent, and
    /// failed.
    fn send(&mut self, slot: usize, due: Instant) -> (u64, u64, u64) {
        let (mut queued, mut sent, mut failed) = (0, 0, 0);
        for i in 0..self.slots[slot].len() {
            let key = self.slots[slot][i];
            let Some(entry) = self.entries[key as usize].as_mut() else {
                continue;
            };
            let out = &mut *entry.out;
            let Some((len, remote)) = entry.stream.next_frame(&mut out.packet) else {
                continue;
            };
            match self.ring.as_mut() {
                Some(ring) => {
                    out.to = remote.map(socket2::SockAddr::from);
                    // SAFETY: the boxed packet and address are neither
                    // freed nor written before `submit` below (entries are
                    // retired only at the start of a tick) and MSG_DONTWAIT
                    // sends complete inside that submit.
                    if unsafe {
                        ring.send(key, entry.stream.fd(), &out.packet[..len], out.to.as_ref())
                    } {
                        queued += 1;
                    } else {
                        failed += 1;
                    }
                    continue;
                }
                None if entry.stream.send_now(&out.packet[..len], remote) => sent += 1,
                None => failed += 1,
            }
            self.stats
                .record_lateness(Instant::now().saturating_duration_since(due));
        }
        (queued, sent, failed)
    }

    /// Hands what the ring completed to the calls; returns failed sends.
    fn reap(&mut self) -> u64 {
        let Some(mut ring) = self.ring.take() else {
            return 0;
        };
        let (mut failed, mut received) = (0, 0);
        let mut ended = Vec::new();
        ring.reap(|completion| match completion {
            Completion::SendFailed => failed += 1,
            Completion::Received { key, bytes, from } => {
                if let Some(entry) = self.entries.get(key as usize).and_then(Option::as_ref)
                    && entry.reading == Reading::Armed
                {
                    entry.stream.received(bytes, from);
                    received += 1;
                }
            }
            Completion::ReceiveEnded { key } => ended.push(key),
        });
        self.ring = Some(ring);
        if received > 0 {
            self.stats
                .ring_receives
                .fetch_add(received, Ordering::Relaxed);
        }
        for key in ended {
            let Some(entry) = self.entries.get_mut(key as usize).and_then(Option::as_mut) else {
                continue;
            };
            if entry.reading == Reading::Cancelling {
                // The call had ended: its socket can close now.
                Self::release(&mut self.entries, &mut self.free, self.ring.as_mut(), key);
            } else {
                // Out of buffers or a socket error: read with recv_from
                // again, and arm anew on a later visit.
                entry.reading = Reading::Polling;
            }
        }
        failed
    }

    /// Reads what the slot's calls received that the ring does not read
    /// for them, and arms the ring's receive on each call not yet armed
    /// (new, or its receive ended for want of buffers), so a call costs no
    /// system call per visit to find nothing there. The receive reports
    /// each packet's source, so the first packet latches (and, with strict
    /// RTP, connects the socket) as `recv_from` would, and it stays armed
    /// when a re-INVITE disconnects the socket.
    fn receive(&mut self, slot: usize) {
        for i in 0..self.slots[slot].len() {
            let key = self.slots[slot][i];
            let Some(entry) = self.entries[key as usize].as_mut() else {
                continue;
            };
            match entry.reading {
                Reading::Polling => {
                    entry.stream.receive(&mut self.receive_buffer);
                    if let Some(ring) = self.ring.as_mut()
                        && ring.arm_receive(entry.stream.fd(), key)
                    {
                        entry.reading = Reading::Armed;
                    }
                }
                Reading::Armed | Reading::Cancelling => {}
            }
        }
    }
}

/// A pacer thread's body: ticks every 2 ms until `stop`.
/// How long an idle worker waits for a call before looking at the stop
/// flag again.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// When tick `tick` is due. (In nanoseconds as u64, not `Duration * u32`:
/// at 500 ticks a second a u32 tick count wraps after 99 days, which made
/// every later tick look overdue and the worker spin.)
fn tick_at(epoch: Instant, tick_length: Duration, tick: u64) -> Instant {
    let nanos = u64::try_from(tick_length.as_nanos()).unwrap_or(u64::MAX);
    epoch + Duration::from_nanos(nanos.saturating_mul(tick))
}

/// The tick that is due now.
fn ticks_since(epoch: Instant, tick_length: Duration) -> u64 {
    let elapsed = Instant::now().saturating_duration_since(epoch);
    u64::try_from(elapsed.as_nanos() / tick_length.as_nanos().max(1)).unwrap_or(u64::MAX)
}

pub(super) fn run(
    incoming: Receiver<Arc<OutboundStream>>,
    stop: Arc<AtomicBool>,
    stats: Arc<PacerStats>,
    options: PacerOptions,
) {
    let mut priority = Priority::raise(options.realtime);
    if priority.is_realtime() {
        stats.realtime_workers.fetch_add(1, Ordering::Relaxed);
    }
    let mut worker = WorkerLoop::new(stats.clone(), options.io_uring);
    let epoch = Instant::now();
    let mut tick: u64 = 0;
    let tick_length = FRAME / SLOTS as u32;
    while !stop.load(Ordering::Acquire) {
        if worker.is_idle() {
            // No calls: sleep until one arrives instead of ticking 500
            // times a second for nothing (an idle node must idle). The
            // timeout only bounds how late a stop flag is noticed (dropping
            // the pacer wakes the worker at once). On waking,
            // the schedule jumps to now, so no burst of catch-up ticks.
            match incoming.recv_timeout(IDLE_WAIT) {
                Ok(stream) => {
                    tick = ticks_since(epoch, tick_length);
                    worker.add(stream, tick + 1);
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        while let Ok(stream) = incoming.try_recv() {
            worker.add(stream, tick + 1);
        }
        let due = tick_at(epoch, tick_length, tick);
        let now = Instant::now();
        if priority.on_tick(now.saturating_duration_since(due), now) {
            if priority.is_realtime() {
                stats.realtime_workers.fetch_add(1, Ordering::Relaxed);
            } else {
                stats.realtime_workers.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let slot = (tick % SLOTS) as usize;
        worker.retire_closed(slot);
        let (queued, mut sent, mut failed) = worker.send(slot, due);
        if let Some(ring) = worker.ring.as_mut() {
            ring.submit();
            stats.ring_sends.fetch_add(queued, Ordering::Relaxed);
            // The ring's sends all count as late as the last of them.
            let late = Instant::now().saturating_duration_since(due);
            for _ in 0..queued {
                stats.record_lateness(late);
            }
        }
        let ring_failed = worker.reap();
        sent += queued.saturating_sub(ring_failed);
        failed += ring_failed;
        // Reading comes after every send of the tick, so it never delays one.
        worker.receive(slot);
        stats.packets_sent.fetch_add(sent, Ordering::Relaxed);
        if failed > 0 {
            stats.send_failures.fetch_add(failed, Ordering::Relaxed);
        }
        tick += 1;
        let next = tick_at(epoch, tick_length, tick);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Codec;
    use std::net::UdpSocket;

    #[test]
    fn the_schedule_does_not_wrap_after_a_hundred_days() {
        let epoch = Instant::now();
        let tick = FRAME / SLOTS as u32;
        let wrap = u64::from(u32::MAX);
        assert!(tick_at(epoch, tick, wrap + 1) > tick_at(epoch, tick, wrap));
        assert_eq!(
            tick_at(epoch, tick, 500) - epoch,
            Duration::from_secs(1),
            "500 ticks of 2 ms"
        );
    }

    #[test]
    fn calls_that_start_in_step_are_spread_over_the_slots() {
        let mut worker = WorkerLoop::new(Arc::new(PacerStats::new()), false);
        // A caller that starts one call every 20 ms: each arrives when the
        // same slot is next.
        for i in 0..25 {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            let stream =
                OutboundStream::new(socket, "127.0.0.1:9".parse().unwrap(), Codec::Pcmu, 0);
            worker.add(stream, 3 + i * SLOTS);
        }
        let sizes: Vec<usize> = worker.slots.iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 25);
        assert!(sizes.iter().all(|&n| n == 2 || n == 3), "{sizes:?}");
        // Among equals the soonest slot is taken: the first call starts at
        // once.
        assert_eq!(worker.slots[3].len(), 3);
    }
}
