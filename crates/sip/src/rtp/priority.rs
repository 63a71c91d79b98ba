//! Scheduling priority of the pacer threads.
//!
//! A pacer thread sleeps until its next 2 ms tick. At normal priority,
//! even at niceness −10, the kernel may let whatever runs on the CPU
//! finish its time slice before the woken pacer gets it: on a two-core
//! machine only a quarter busy, ticks started 2–4 ms late at the 99th
//! percentile, and at 3,000 calls send lateness p99 was 6.6 ms against
//! 1.1 ms at real-time priority (BENCHMARKS.md). At real-time priority (`SCHED_FIFO`) the woken pacer takes the
//! CPU from any normal thread at once, so audio goes out on time while
//! call set-up and the API wait.
//!
//! A real-time thread that never sleeps would starve the rest of the
//! server (the kernel leaves others only 5 %). A pacer that is behind
//! never sleeps, so a pacer that falls `OVERLOAD` behind its schedule
//! drops to normal priority and tries real time again only after
//! `RETRY_AFTER` and once it is on time.

use std::time::{Duration, Instant};

/// Real-time priority asked for: low among real-time threads (the kernel's
/// own are at 50 and above), above every normal one.
const REALTIME_PRIORITY: i32 = 10;
/// Niceness asked for when real time is off, refused or dropped.
const NICENESS: i32 = -10;
/// This far behind, the pacer is overloaded rather than delayed once.
pub(crate) const OVERLOAD: Duration = Duration::from_millis(100);
const RETRY_AFTER: Duration = Duration::from_secs(10);
/// "On time" for going back to real time.
const ON_TIME: Duration = Duration::from_millis(2);

/// Whether the calling thread now runs at real-time priority.
fn set_realtime(on: bool) -> bool {
    // SAFETY: gettid takes no arguments; sched_setscheduler and
    // setpriority read only the parameter struct we pass, and report
    // failure through their return value.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
        if on {
            let param = libc::sched_param {
                sched_priority: REALTIME_PRIORITY,
            };
            if libc::sched_setscheduler(tid, libc::SCHED_FIFO, &param) == 0 {
                return true;
            }
        } else {
            let param = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(tid, libc::SCHED_OTHER, &param);
        }
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICENESS) != 0 {
            tracing::debug!("RTP pacer runs at normal priority (no CAP_SYS_NICE)");
        }
        false
    }
}

/// One pacer thread's priority, kept by that thread.
pub(crate) struct Priority {
    wanted: bool,
    realtime: bool,
    dropped_at: Option<Instant>,
}

impl Priority {
    /// Raises the calling thread's priority: real time when `realtime` is
    /// asked for and allowed (root or CAP_SYS_NICE), niceness −10
    /// otherwise where allowed.
    pub(crate) fn raise(realtime: bool) -> Self {
        let now = set_realtime(realtime);
        if realtime && !now {
            tracing::info!(
                "RTP pacer could not get real-time priority (needs CAP_SYS_NICE); audio timing may suffer on a busy machine"
            );
        }
        Priority {
            wanted: realtime,
            realtime: now,
            dropped_at: None,
        }
    }

    pub(crate) fn is_realtime(&self) -> bool {
        self.realtime
    }

    /// Called at each tick with how late it started; returns true when
    /// the priority changed.
    pub(crate) fn on_tick(&mut self, behind: Duration, now: Instant) -> bool {
        if self.realtime && behind >= OVERLOAD {
            set_realtime(false);
            self.realtime = false;
            self.dropped_at = Some(now);
            tracing::warn!(
                behind_ms = behind.as_millis() as u64,
                "RTP pacer overloaded: running at normal priority for a while so the rest of the server keeps its share"
            );
            return true;
        }
        if let Some(at) = self.dropped_at
            && self.wanted
            && behind < ON_TIME
            && now.saturating_duration_since(at) >= RETRY_AFTER
        {
            self.dropped_at = None;
            self.realtime = set_realtime(true);
            return self.realtime;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> i32 {
        // SAFETY: no arguments beyond the thread id.
        unsafe { libc::sched_getscheduler(libc::syscall(libc::SYS_gettid) as libc::pid_t) }
    }

    #[test]
    fn an_overloaded_pacer_leaves_real_time_and_comes_back_once_on_time() {
        // Run on a thread of its own: the priority changes are per thread.
        std::thread::spawn(|| {
            let mut priority = Priority::raise(true);
            if !priority.is_realtime() {
                // Not permitted here (no CAP_SYS_NICE): nothing to drop.
                assert_eq!(policy(), libc::SCHED_OTHER);
                return;
            }
            assert_eq!(policy(), libc::SCHED_FIFO);
            let start = Instant::now();
            // A late tick is not overload.
            assert!(!priority.on_tick(Duration::from_millis(20), start));
            assert_eq!(policy(), libc::SCHED_FIFO);
            assert!(priority.on_tick(OVERLOAD, start));
            assert_eq!(policy(), libc::SCHED_OTHER);
            assert!(!priority.is_realtime());
            // Not before RETRY_AFTER, and not while still behind.
            assert!(!priority.on_tick(Duration::ZERO, start + RETRY_AFTER / 2));
            assert!(!priority.on_tick(Duration::from_millis(5), start + RETRY_AFTER));
            assert!(priority.on_tick(Duration::ZERO, start + RETRY_AFTER));
            assert_eq!(policy(), libc::SCHED_FIFO);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn without_real_time_asked_the_thread_stays_normal() {
        std::thread::spawn(|| {
            let mut priority = Priority::raise(false);
            assert!(!priority.is_realtime());
            assert_eq!(policy(), libc::SCHED_OTHER);
            assert!(!priority.on_tick(OVERLOAD * 2, Instant::now()));
        })
        .join()
        .unwrap();
    }
}
