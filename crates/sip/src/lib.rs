//! placeholder
pub mod dtmf;
pub mod g711;
pub mod rtp;
