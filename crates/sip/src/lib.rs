//! touchtone's telephony engine: a SIP user agent (it answers and places
//! calls) with G.711 media, DTMF three ways and prompt playback, behind the
//! [`Channel`] interface that call flows use.
//!
//! ## Why rsipstack
//!
//! The SIP transaction and dialog layers come from `rsipstack` (pinned to
//! 0.7.14: its API moved fast during 2026, and only `engine/`, `digest.rs` and
//! `call.rs` touch it). We weighed it against `rsip` (a parser only) plus a
//! transaction layer of our own. rsipstack already carries what a trunk
//! needs and what takes longest to get right: RFC 3261 client and server
//! transactions with their timers (A/B/D/E/F/G/H/I/J/K, RFC 6026's
//! Accepted state), INVITE dialogs both ways, CANCEL, digest authentication
//! on 401/407 (MD5 and SHA-256; `digest.rs` makes it read RFC 7616
//! challenges as trunks send them), REFER/NOTIFY, UDP/TCP/TLS listeners and a
//! source-address allow-list at the transport. `rsip` has been untouched
//! since 2022, so choosing it would have meant owning both the parser and
//! the transaction layer. What rsipstack does not do, and we do here: SDP
//! negotiation (`sdp.rs`), RTP and its pacing (`rtp/`), G.711 (`g711.rs`),
//! DTMF (`dtmf/`), prompts (`prompt.rs`) and the `Channel` API
//! (`channel.rs`).
//!
//! ## Layout
//!
//! - `engine/`: listeners, request dispatch and registration (`mod.rs`),
//!   inbound set-up with late offers (`inbound.rs`), outbound `dial`
//!   (`dial.rs`).
//! - `call.rs`: the task that owns an established call.
//! - `digest.rs`: trunk digest challenges rewritten so rsipstack can answer them.
//! - `channel.rs`: what call flows see.
//! - `config.rs`: the `[sip]` settings (listeners, media ports, sources, trunk).
//! - `sdp.rs`: offer/answer for one G.711 audio stream.
//! - `rtp/`: packets, each call's stream and media session, the pacer that
//!   sends and reads every call's RTP, ports.
//! - `g711.rs`: µ-law and A-law by table.
//! - `dtmf/`: digits from RFC 4733 events, in-band tones (Goertzel) and SIP
//!   INFO bodies.
//! - `prompt.rs`: audio to play, in memory as µ-law (the named vocabulary
//!   of the flows is the IVR's).
//! - `testflow.rs`: a small flow for exercising the engine end to end.
//! - `wire/`: the guard every UDP datagram passes before rsipstack: RFC 3261
//!   §8.2 checks (RFC 4475), stateless refusals, per-source limits.

pub(crate) mod call;
pub mod channel;
pub mod config;
pub(crate) mod digest;
pub mod dtmf;
pub mod engine;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod g711;
pub mod prompt;
pub mod rtp;
pub mod sdp;
pub mod testflow;
pub mod wire;

pub use channel::{
    CallInfo, Channel, ChannelError, CollectEnd, CollectSpec, Collected, PlayOutcome,
    TransferOutcome,
};
pub use config::{SipConfig, TrunkConfig};
pub use dtmf::Digit;
pub use engine::{
    CallHandler, DialError, DialProgress, DialRequest, Engine, EngineError, EngineStats,
};
pub use prompt::Prompt;
