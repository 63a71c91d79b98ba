//! Loopback ports for the servers tests start, handed out so that two
//! tests never get the same one: not in this process, not in another test
//! process on the machine, and not to a connection the kernel opens.
//!
//! Binding port 0 and releasing it ("a port that was free a moment ago")
//! races: before the server started by the test binds it, the kernel may
//! give the same port to another test's outgoing connection (it is in the
//! ephemeral range) or to another test that did the same. Here a port:
//!
//! - comes from below the kernel's ephemeral range
//!   (`/proc/sys/net/ipv4/ip_local_port_range`), which the kernel never
//!   hands out by itself;
//! - is reserved with an exclusive `flock` on a file named after it in a
//!   directory shared by every test process (`$TMPDIR/touchtone-test-ports`),
//!   held until this process exits, so no other test process (nor another
//!   thread of this one: each reservation is its own open file) takes it;
//! - is checked free for TCP and UDP on 127.0.0.1 at that moment (something
//!   other than our tests may hold it).
//!
//! Where a program started on a reserved port still fails to bind it (a
//! program outside the tests took it), the harness that started the
//! program retries on another port and waits for readiness, not for time.

use std::fs::File;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Mutex;

/// Ports handed out never go below this.
const LOWEST: u16 = 10_000;
/// How many ports below the ephemeral range we use.
const SPAN: u16 = 20_000;

struct Reservations {
    /// The next candidate, moving up and wrapping inside the window.
    next: u16,
    /// Held locks: dropping one would release its port to other processes.
    held: Vec<File>,
}

static RESERVATIONS: Mutex<Option<Reservations>> = Mutex::new(None);

/// `[first, end)` of the window: up to `SPAN` ports below the ephemeral range.
fn window() -> (u16, u16) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u16>().ok())
        })
        .unwrap_or(32_768);
    let end = ephemeral_low.max(LOWEST + 1_000);
    (end.saturating_sub(SPAN).max(LOWEST), end)
}

fn lock_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("touchtone-test-ports");
    std::fs::create_dir_all(&dir).expect("create the port reservation directory");
    dir
}

/// Takes the exclusive lock on the file `name`, if no one holds it.
fn try_lock(dir: &std::path::Path, name: &str) -> Option<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))
        .ok()?;
    // SAFETY: flock on an open file descriptor we own; no memory involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    (rc == 0).then_some(file)
}

/// Whether `port` can be bound on loopback for TCP and for UDP now.
fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// Reserves `count` consecutive ports, the first one even when `even`.
/// Panics only when the whole window is taken.
fn reserve(count: u16, even: bool) -> u16 {
    let (first, end) = window();
    let dir = lock_dir();
    let mut guard = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(|| Reservations {
        // Each process starts somewhere else in the window, so processes
        // rarely even try the same ports.
        next: first + (std::process::id() as u16).wrapping_mul(7_919) % (end - first),
        held: Vec::new(),
    });
    let tries = usize::from(end - first);
    for _ in 0..tries {
        let mut base = state.next;
        if even {
            base &= !1;
        }
        if base < first || base.saturating_add(count) > end {
            state.next = first;
            continue;
        }
        state.next = base + count.max(1);
        let mut locks = Vec::with_capacity(usize::from(count));
        for port in base..base + count {
            match try_lock(&dir, &port.to_string()) {
                Some(lock) if bindable(port) => locks.push(lock),
                _ => break,
            }
        }
        if locks.len() == usize::from(count) {
            state.held.extend(locks);
            return base;
        }
    }
    panic!("no {count} free loopback ports in {first}-{end} (every one is reserved or in use)");
}

/// A TCP and UDP port on 127.0.0.1 for a server this test starts.
pub fn port() -> u16 {
    reserve(1, false)
}

/// `count` consecutive ports, the first even (RTP pairs, a program that
/// also binds the next port).
pub fn port_block(count: u16) -> u16 {
    reserve(count.max(1), true)
}

/// A loopback address (`127.0.0.N`) on which every one of `fixed` is free,
/// reserved for this process like a port, for a server that must listen
/// on fixed ports (a Samba DC on 389 and 636). Linux routes all of
/// 127.0.0.0/8 to the loopback interface.
pub fn loopback_address_for(fixed: &[u16]) -> std::net::Ipv4Addr {
    let dir = lock_dir();
    let mut guard = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(|| Reservations {
        next: window().0,
        held: Vec::new(),
    });
    for n in 2..=254u8 {
        let address = std::net::Ipv4Addr::new(127, 0, 0, n);
        let Some(lock) = try_lock(&dir, &format!("addr-{address}")) else {
            continue;
        };
        if fixed.iter().all(|&p| {
            TcpListener::bind((address, p)).is_ok() && UdpSocket::bind((address, p)).is_ok()
        }) {
            state.held.push(lock);
            return address;
        }
    }
    panic!("no loopback address 127.0.0.2-254 has {fixed:?} free");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_never_handed_out_twice_and_are_free() {
        let (first, end) = window();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let p = port();
            assert!((first..end).contains(&p), "{p} outside {first}-{end}");
            assert!(seen.insert(p), "{p} handed out twice");
        }
        let block = port_block(4);
        assert_eq!(block % 2, 0);
        for p in block..block + 4 {
            assert!(seen.insert(p), "{p} handed out twice");
            // Reserved ports are still free to bind: the reservation is a
            // lock file, not a socket.
            assert!(bindable(p));
        }
    }

    #[test]
    fn a_reserved_port_cannot_be_reserved_again_by_another_open_file() {
        let p = port();
        assert!(
            try_lock(&lock_dir(), &p.to_string()).is_none(),
            "the lock on {p} is not exclusive"
        );
    }

    #[test]
    fn a_loopback_address_is_reserved_once_with_its_fixed_ports_free() {
        let a = loopback_address_for(&[389, 636]);
        let b = loopback_address_for(&[389, 636]);
        assert_ne!(a, b);
        assert_ne!(a, std::net::Ipv4Addr::LOCALHOST);
        assert!(TcpListener::bind((a, 636)).is_ok());
    }

    #[test]
    fn a_port_something_else_listens_on_is_skipped() {
        // Hold the next few candidates open: reserve must step over them.
        let guard = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
        let next = guard.as_ref().map_or(0, |s| s.next);
        drop(guard);
        let busy: Vec<TcpListener> = (next..next.saturating_add(3))
            .filter_map(|p| TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        let taken: Vec<u16> = busy
            .iter()
            .map(|l| l.local_addr().expect("an address").port())
            .collect();
        let p = port();
        assert!(!taken.contains(&p), "{p} is in use but was handed out");
    }
}
