//! The pure domain of touchtone: the rules that every front door (the HTTPS
//! API, the IVR) must agree on, with no I/O and no async.
//!
//! - [`keypad`]: ITU-T E.161 mapping of IDs and answers to telephone keypad
//!   digits, and the [`keypad::KeypadDigits`] type that carries the result.
//! - [`answer`]: how an enrolled or keyed answer is normalised before it is
//!   hashed or compared.
//! - [`answer_strength`]: whether an answer a person enrols is too weak
//!   (short, repeated, a run, their own ID, a year out of range, a repeat).
//! - [`question`]: choosing a random subset of a person's enrolled questions.
//! - [`lockout`]: the arithmetic of the intruder lockout.
//! - [`password`]: password policies, the phone-safe generator and the
//!   phonetic spelling that is read out to a caller.
//! - [`session_token`]: one-time API session IDs.
//! - [`event`]: the event types delivered to event actions.
//! - [`secret`]: types that hold secrets and never print them.
//! - [`phone`]: telephone numbers in E.164 form, parsed with a default region.
//! - [`otp`]: voice-OTP rules: the code and its masked form, the
//!   destination guard (allowed prefixes, premium rate) and the dial plan.
//!
//! Time is always passed in as milliseconds since the Unix epoch
//! ([`UnixMillis`]), so every rule is testable without a clock.

pub mod answer;
pub mod answer_strength;
pub mod event;
pub mod keypad;
pub mod lockout;
pub mod otp;
pub mod password;
pub mod phone;
pub mod question;
pub mod secret;
pub mod session_token;
pub mod totp;

/// Milliseconds since the Unix epoch; the one time unit of the domain.
pub type UnixMillis = i64;
