//! Passwords a caller can hear, write down and type.
//!
//! - [`policy`]: what a target system requires, and the strictest policy
//!   that satisfies every target of a person at once.
//! - [`generator`]: random passwords from a phone-safe alphabet.
//! - [`phonetic`]: the spoken form ("capital Kilo", "seven", …).

pub mod generator;
pub mod phonetic;
pub mod policy;

pub use generator::generate;
pub use phonetic::spell;
pub use policy::{PasswordPolicy, PolicyConflict, PolicyViolation};
