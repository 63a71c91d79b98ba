//! RTP port allocation from a configured range (even ports, RFC 3550 §11).

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub struct PortRange {
    ip: IpAddr,
    first: u16,
    last: u16,
    next: AtomicU32,
    bound: AtomicU64,
}

impl PortRange {
    pub fn new(ip: IpAddr, first: u16, last: u16) -> Self {
        let first = first + first % 2;
        PortRange {
            ip,
            first,
            last: last.max(first),
            next: AtomicU32::new(0),
            bound: AtomicU64::new(0),
        }
    }

    /// Ports bound so far (for tests and monitoring).
    pub fn bound(&self) -> u64 {
        self.bound.load(Ordering::Relaxed)
    }

    /// Binds a free even port of the range, non-blocking. Ports are taken
    /// round-robin so a just-freed port is not reused at once (late packets
    /// of the previous call would land in the new one).
    pub fn bind(&self) -> std::io::Result<UdpSocket> {
        let count = u32::from((self.last - self.first) / 2 + 1);
        for _ in 0..count {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % count;
            let port = self.first + (i * 2) as u16;
            if let Ok(socket) = UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                socket.set_nonblocking(true)?;
                self.bound.fetch_add(1, Ordering::Relaxed);
                return Ok(socket);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("no free RTP port in {}-{}", self.first, self.last),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_even_distinct_and_exhaustion_is_an_error() {
        let range = PortRange::new("127.0.0.1".parse().unwrap(), 41001, 41006);
        let a = range.bind().unwrap();
        let b = range.bind().unwrap();
        let c = range.bind().unwrap();
        let ports: Vec<u16> = [&a, &b, &c]
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_eq!(ports, vec![41002, 41004, 41006]);
        assert!(range.bind().is_err());
        drop(b);
        assert_eq!(range.bind().unwrap().local_addr().unwrap().port(), 41004);
    }
}
