//! The pacer threads' shared counters: packets sent and failed, what went
//! through io_uring, threads at real-time priority, and the histogram of
//! send lateness that the benchmark reads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Histogram resolution and range for send lateness.
const BUCKET_MICROS: u64 = 10;
const BUCKETS: usize = 5000;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_quantiles() {
        let stats = PacerStats::new();
        for us in 0..100 {
            stats.record_lateness(Duration::from_micros(us * 10));
        }
        assert_eq!(stats.lateness_quantile(0.5), Duration::from_micros(500));
        assert_eq!(stats.lateness_quantile(0.99), Duration::from_micros(990));
    }
}
