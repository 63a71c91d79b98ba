//! The `[sip]` section of the configuration: listeners, media ports, who may
//! call in, and the trunk used for outbound calls.

use crate::rtp::stream::InBandDtmf;
pub use crate::wire::SourceLimit;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// UDP listener (the usual transport for trunks and PBXs).
    pub udp: Option<SocketAddr>,
    /// TCP listener.
    pub tcp: Option<SocketAddr>,
    /// TLS listener (SIPS), with a PEM certificate chain and key.
    pub tls: Option<TlsListener>,
    /// Address written into Contact and SDP; defaults to the UDP listener's
    /// address when that is not a wildcard.
    pub public_address: Option<IpAddr>,
    /// RTP ports are taken from this range (even ports only).
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Networks allowed to send us SIP; empty means anyone. Packets and
    /// connections from elsewhere are dropped before they are parsed.
    pub allowed_sources: Vec<IpNet>,
    /// Calls beyond this are refused with 503.
    pub max_calls: usize,
    pub in_band_dtmf: InBandDtmf,
    /// Strict RTP: once the peer's first RTP packet has come, take media
    /// only from the address it came from (the call's socket is connected
    /// to it), so nobody else who can reach the port can inject key
    /// presses into the call; a connected socket also sends and receives
    /// more cheaply. A re-INVITE that moves the peer's media learns the
    /// new source. Turn off for peers whose media source moves mid-call
    /// without a re-INVITE: symmetric RTP then follows any new SSRC.
    pub strict_rtp: bool,
    /// Hang up when no RTP has arrived for this long (0 = never), so a
    /// call whose BYE was lost does not stay up for ever. Calls on hold are
    /// exempt. Five minutes by default: a caller's phone that suppresses
    /// silence may send nothing while it listens to a long prompt.
    pub rtp_timeout_secs: u64,
    /// Send silence between prompts (the default), as most phones and
    /// trunks expect. False suppresses it (RFC 3551 §4.1): nothing is sent
    /// while nothing plays, and the next packet starts a talkspurt with
    /// the marker bit. That saves a packet every 20 ms of every idle call,
    /// but some NATs and session border controllers drop a call's media
    /// binding, or hang up, when one side falls silent.
    pub rtp_send_silence: bool,
    /// Threads that pace outgoing RTP (0 = one per CPU).
    pub pacer_threads: usize,
    /// Batch each pacer thread's RTP sends and receives through io_uring
    /// (one system call per thread per 2 ms instead of about two per
    /// packet; Linux 6.1 or later). Off by default: on the benchmark's
    /// loopback it saved between nothing and 5 % of the CPU over plain
    /// system calls, depending on the machine (each armed receive puts a
    /// waiter on the socket that every send and arrival must then wake),
    /// and lengthened the tail of send lateness a little; see
    /// BENCHMARKS.md. Where the kernel or a seccomp filter refuses io_uring
    /// the pacer says so once in the log and uses plain system calls.
    pub rtp_io_uring: bool,
    /// Run the pacer threads at real-time priority (SCHED_FIFO 10), so a
    /// busy machine delays call set-up and the API rather than audio.
    /// Needs root or CAP_SYS_NICE (systemd: `AmbientCapabilities=
    /// CAP_SYS_NICE`); without it they ask for niceness −10. A pacer that
    /// falls 100 ms behind (overload) returns to normal priority for a
    /// while, so it cannot starve the rest of the server.
    pub rtp_realtime: bool,
    pub user_agent: String,
    /// How long an outbound call may ring before it counts as no answer.
    pub ring_timeout_secs: u64,
    /// Outbound trunk: where `dial` sends INVITEs.
    pub trunk: Option<TrunkConfig>,
    /// Per-source request limits over UDP (`[sip.limit]`); the trunk, when
    /// given by address, is trusted.
    pub limit: SourceLimit,
}

impl SipConfig {
    /// `limit`, with the trunk's address (when it is an IP literal) among
    /// the trusted sources: every call of the trunk arrives from it.
    pub(crate) fn limit_with_trunk(&self) -> SourceLimit {
        let mut limit = self.limit.clone();
        if let Some(ip) = self.trunk.as_ref().and_then(|t| uri_ip(&t.uri)) {
            limit.trusted.push(IpNet::from(ip));
        }
        limit
    }
}

/// The host of `sip:[user@]host[:port][;params]` when it is an IP address.
fn uri_ip(uri: &str) -> Option<IpAddr> {
    let rest = uri.split_once(':')?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = rest.split([';', '?']).next()?;
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    host.split(':').next()?.parse().ok()
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            udp: Some(SocketAddr::from(([0, 0, 0, 0], 5060))),
            tcp: None,
            tls: None,
            public_address: None,
            rtp_port_min: 20000,
            rtp_port_max: 39998,
            allowed_sources: Vec::new(),
            max_calls: 10_000,
            in_band_dtmf: InBandDtmf::Auto,
            strict_rtp: true,
            rtp_timeout_secs: 300,
            rtp_send_silence: true,
            pacer_threads: 0,
            rtp_io_uring: false,
            rtp_realtime: true,
            user_agent: format!("touchtone/{}", env!("CARGO_PKG_VERSION")),
            ring_timeout_secs: 30,
            trunk: None,
            limit: SourceLimit::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsListener {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// `sip:host:port` of the trunk or PBX; `;transport=tcp` selects TCP.
    pub uri: String,
    /// Digest credentials, used when the trunk challenges (401/407).
    pub username: Option<String>,
    pub password: Option<String>,
    /// Caller ID (the user part of From) for outbound calls.
    pub caller_id: Option<String>,
    /// REGISTER with the trunk (using `username`/`password`) and keep the
    /// registration fresh, for trunks that route inbound calls only to
    /// registered endpoints.
    #[serde(default)]
    pub register: bool,
    /// Registration lifetime asked for; refreshed at 3/4 of what the
    /// registrar grants, with back-off after failures.
    #[serde(default = "default_register_expires")]
    pub register_expires_secs: u32,
}

fn default_register_expires() -> u32 {
    300
}

impl std::fmt::Debug for TrunkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkConfig")
            .field("uri", &self.uri)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("caller_id", &self.caller_id)
            .field("register", &self.register)
            .field("register_expires_secs", &self.register_expires_secs)
            .finish()
    }
}
