//! RTP: packets, the pacer that sends and reads every call's media on
//! time, each call's stream (what it sends next and what it received), its
//! media session, and ports.
//!
//! - `packet`: the RTP fixed header (RFC 3550 §5.1).
//! - `stream`: one call's stream, both halves, and what SDP negotiated.
//! - `session`: a call's media session: start, re-negotiate, stop.
//! - `pacer`: the handle on the pacer threads; `worker` a thread's loop
//!   and schedule, `uring` its batched I/O, `priority` its scheduling
//!   priority, `stats` their shared counters.
//! - `ports`: the RTP port range.
pub mod pacer;
pub mod packet;
pub mod ports;
mod priority;
pub mod session;
mod stats;
pub mod stream;
mod uring;
mod worker;
