//! The kernel's floor for sending RTP-sized datagrams on this machine, to
//! judge the engine's per-packet cost against: `sendto` from N sockets to N
//! open sockets that are never read (the way a caller's phone drops what
//! it cannot play), `send` from N sockets connected to those ports (what
//! strict RTP does once it has learnt the peer), `sendto` to closed ports
//! (what sipp's callers are), `sendmmsg` of the same packets from one
//! socket in batches of 64, and the connected sends handed to io_uring 64
//! at a time with `MSG_DONTWAIT`, as the pacer does.
//!
//! Run: `cargo bench -p touchtone-sip --bench udp_floor` (`UDP_FLOOR_SOCKETS`,
//! default 1000).

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

const ROUNDS: usize = 200;
const PACKET: [u8; 172] = [0x80; 172];

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn sockets(n: usize) -> Vec<UdpSocket> {
    (0..n)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("a loopback socket"))
        .collect()
}

fn per_packet(label: &str, n: usize, send: impl FnOnce()) {
    let before = cpu_seconds();
    send();
    let micros = (cpu_seconds() - before) * 1e6 / (ROUNDS * n) as f64;
    println!("{label:<40} {micros:.2} µs CPU per packet");
}

fn sendmmsg_all(socket: &UdpSocket, targets: &[SocketAddr]) {
    let addrs: Vec<libc::sockaddr_in> = targets
        .iter()
        .map(|t| {
            let SocketAddr::V4(v4) = t else {
                unreachable!("loopback IPv4")
            };
            libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            }
        })
        .collect();
    for _ in 0..ROUNDS {
        for chunk in addrs.chunks(64) {
            let mut iovs: Vec<libc::iovec> = chunk
                .iter()
                .map(|_| libc::iovec {
                    iov_base: PACKET.as_ptr() as *mut libc::c_void,
                    iov_len: PACKET.len(),
                })
                .collect();
            let mut messages: Vec<libc::mmsghdr> = chunk
                .iter()
                .zip(iovs.iter_mut())
                .map(|(addr, iov)| {
                    // SAFETY: an all-zero mmsghdr is valid; the pointers set
                    // below outlive the sendmmsg call.
                    let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    m.msg_hdr.msg_name = addr as *const libc::sockaddr_in as *mut libc::c_void;
                    m.msg_hdr.msg_namelen =
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
                    m.msg_hdr.msg_iov = iov;
                    m.msg_hdr.msg_iovlen = 1;
                    m
                })
                .collect();
            // SAFETY: `messages` points at live addresses and buffers.
            unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    messages.as_mut_ptr(),
                    messages.len() as u32,
                    0,
                )
            };
        }
    }
}

/// Sends one packet on each connected socket per round through io_uring,
/// 64 per `io_uring_enter`; successful sends post no completion.
fn io_uring_all(sockets: &[UdpSocket]) {
    use io_uring::{IoUring, opcode, squeue, types};
    let mut ring: IoUring = match IoUring::builder().setup_single_issuer().build(256) {
        Ok(ring) => ring,
        Err(e) => {
            println!("io_uring unavailable here: {e}");
            return;
        }
    };
    for _ in 0..ROUNDS {
        for chunk in sockets.chunks(64) {
            for s in chunk {
                let entry = opcode::Send::new(
                    types::Fd(s.as_raw_fd()),
                    PACKET.as_ptr(),
                    PACKET.len() as u32,
                )
                .flags(libc::MSG_DONTWAIT)
                .build()
                .flags(squeue::Flags::SKIP_SUCCESS);
                // SAFETY: PACKET is a static; the queue has room for 64.
                unsafe { ring.submission().push(&entry) }.expect("room for 64 entries");
            }
            ring.submit().expect("io_uring_enter");
            // Failures (full socket buffers) complete; drop them.
            ring.completion().for_each(drop);
        }
    }
}

fn main() {
    let n: usize = std::env::var("UDP_FLOOR_SOCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let senders = sockets(n);
    let receivers = sockets(n);
    let open: Vec<SocketAddr> = receivers
        .iter()
        .filter_map(|r| r.local_addr().ok())
        .collect();
    per_packet("sendto, N sockets to N open ports", n, || {
        for _ in 0..ROUNDS {
            for (s, t) in senders.iter().zip(&open) {
                let _ = s.send_to(&PACKET, t);
            }
        }
    });
    let connected = sockets(n);
    for (s, t) in connected.iter().zip(&open) {
        s.connect(t).expect("connect to a loopback port");
    }
    per_packet("send, N connected sockets to N open ports", n, || {
        for _ in 0..ROUNDS {
            for s in &connected {
                let _ = s.send(&PACKET);
            }
        }
    });
    per_packet("io_uring x64, N connected sockets", n, || {
        io_uring_all(&connected)
    });
    per_packet("sendmmsg x64, one socket to N open ports", n, || {
        sendmmsg_all(&senders[0], &open)
    });
    drop(receivers);
    per_packet("sendto, N sockets to N closed ports", n, || {
        for _ in 0..ROUNDS {
            for (s, t) in senders.iter().zip(&open) {
                let _ = s.send_to(&PACKET, t);
            }
        }
    });
}
