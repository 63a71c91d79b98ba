//! RTP: packets, the shared send pacer, per-call media sessions and ports.
pub mod pacer;
pub mod packet;
pub mod ports;
mod priority;
pub mod session;
mod uring;
mod worker;
