//! The guard in front of the transaction layer: every SIP datagram that
//! arrives over UDP is checked here before rsipstack parses it.
//!
//! rsipstack reads its UDP socket through a trait (`platform::net::
//! UdpSocket`); the engine hands it a [`GuardedSocket`] whose `recv_from`
//! returns only datagrams that passed, respelled plainly, and itself
//! answers or drops the rest. That makes it a layer of its own rather than
//! a patch to rsipstack: rsipstack is liberal where RFC 3261 says a UAS must
//! refuse (a negative Content-Length, two Call-IDs, an unknown `Require`,
//! a wrong version) and strict where the RFC asks to accept (folded lines,
//! white space round `/` in Via, leading zeros, RFC 2543 requests), and
//! both are fixed here, in one place, against RFC 4475's messages.
//!
//! In order, for each datagram: the allowed-sources list, the per-source
//! limit ([`limit`]), then the checks of RFC 3261 §8.2 ([`check`]).
//! TCP and TLS connections go straight to rsipstack (its stream framing
//! has no such seam); they come from the trunk or proxies we configure.

mod check;
mod limit;
mod message;
mod reply;
mod scan;

pub use limit::SourceLimit;

use async_trait::async_trait;
use ipnet::IpNet;
use limit::{Decision, Limiter};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::debug;

/// What the guard did, for tests and monitoring.
#[derive(Debug, Default)]
pub struct WireStats {
    /// Requests answered here with an error (400, 405, 416, 420, 501, ...).
    pub refused: AtomicU64,
    /// Requests answered 503 because their source went over its limit.
    pub limited: AtomicU64,
    /// Datagrams ignored: from a blocked source, or broken responses and
    /// ACKs, which are never answered.
    pub dropped: AtomicU64,
}

pub(crate) struct Guard {
    allowed: Vec<IpNet>,
    limiter: Option<Limiter>,
    pub(crate) stats: Arc<WireStats>,
}

impl Guard {
    pub(crate) fn new(allowed: Vec<IpNet>, limit: SourceLimit) -> Guard {
        Guard {
            allowed,
            limiter: Limiter::new(limit),
            stats: Arc::new(WireStats::default()),
        }
    }

    /// What to do with a datagram from `from`: `Ok(bytes)` for the stack,
    /// `Err(Some(reply))` to answer, `Err(None)` to ignore.
    fn admit(&self, datagram: &[u8], from: SocketAddr) -> Result<Vec<u8>, Option<Vec<u8>>> {
        if !self.allowed.is_empty() && !self.allowed.iter().any(|n| n.contains(&from.ip())) {
            return Err(None);
        }
        let is_request = !datagram.starts_with(b"SIP/");
        if is_request && let Some(limiter) = &self.limiter {
            match limiter.decide(from.ip()) {
                Decision::Pass => {}
                Decision::Refuse { retry_after_secs } => {
                    let msg = message::frame(datagram);
                    if msg.start_line.starts_with(b"ACK ") || msg.first("Via").is_none() {
                        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        return Err(None);
                    }
                    self.stats.limited.fetch_add(1, Ordering::Relaxed);
                    debug!(%from, "source over its request limit: 503, then ignored");
                    return Err(Some(reply::stateless(
                        &msg,
                        503,
                        "Service Unavailable",
                        &[format!("Retry-After: {retry_after_secs}")],
                    )));
                }
                Decision::Ignore => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    return Err(None);
                }
            }
        }
        match check::inspect(datagram) {
            check::Verdict::Pass(bytes) => Ok(bytes),
            check::Verdict::Reply(bytes) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                Err(Some(bytes))
            }
            check::Verdict::Drop(why) => {
                debug!(%from, why, "SIP datagram dropped");
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                Err(None)
            }
        }
    }
}

/// What the guard does with a datagram, for the fuzz targets.
#[cfg(fuzzing)]
pub(crate) enum FuzzVerdict {
    Pass(Vec<u8>),
    Reply(Vec<u8>),
    Drop,
}

/// The checks of RFC 3261 §8.2 on one datagram (no source limits), for
/// the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn fuzz_inspect(datagram: &[u8]) -> FuzzVerdict {
    match check::inspect(datagram) {
        check::Verdict::Pass(bytes) => FuzzVerdict::Pass(bytes),
        check::Verdict::Reply(bytes) => FuzzVerdict::Reply(bytes),
        check::Verdict::Drop(_) => FuzzVerdict::Drop,
    }
}

/// The UDP socket rsipstack reads through.
pub(crate) struct GuardedSocket {
    socket: tokio::net::UdpSocket,
    guard: Guard,
}

impl GuardedSocket {
    pub(crate) fn new(socket: tokio::net::UdpSocket, guard: Guard) -> GuardedSocket {
        GuardedSocket { socket, guard }
    }
}

/// Keep-alives (CRLF, RFC 5626 §4.4.1) and blank datagrams: rsipstack
/// answers or skips them itself.
fn is_blank(datagram: &[u8]) -> bool {
    datagram.iter().all(u8::is_ascii_whitespace)
}

#[async_trait]
impl rsipstack::platform::net::UdpSocket for GuardedSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, from) = self.socket.recv_from(buf).await?;
            if is_blank(&buf[..len]) {
                return Ok((len, from));
            }
            match self.guard.admit(&buf[..len], from) {
                Ok(bytes) if bytes.len() <= buf.len() => {
                    buf[..bytes.len()].copy_from_slice(&bytes);
                    return Ok((bytes.len(), from));
                }
                Ok(_) => debug!(%from, "respelled request larger than the buffer; dropped"),
                Err(Some(reply)) => {
                    if let Err(e) = self.socket.send_to(&reply, from).await {
                        debug!(%from, error = %e, "cannot send a stateless response");
                    }
                }
                Err(None) => {}
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}
