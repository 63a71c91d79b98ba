//! RTP: packets, the per-call media session and the shared send pacer.
pub mod packet;
