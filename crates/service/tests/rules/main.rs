//! The service's security rules, tested where they live: on both
//! databases, through the service's own functions, with no HTTP in front.
//! Every door (the HTTPS API, the IVR, the portal and console to come)
//! relies on these holding here.
//!
//! - `sessions`: one-time session IDs, rotation, replay, expiry.
//! - `gate`: verification before a reset or unlock.
//! - `lockout`: the intruder lockout, shared by every door.
//! - `journal`: the durable record of each account's step in a sync.
//! - `enrolment`: answers imported in bulk, and the enrolment report.
//! - `phone_enrolment`: enrolling by phone with a one-time PIN, and the
//!   enrolment policy (required answers, reconfirmation).
//! - `factors`: the TOTP factor and the verification policy.
//! - `second_factor`: the portal's optional call to the person's phone.
//! - `portal`: the self-service portal's sign-in, sessions and enrolment.
//! - `notices`: telling people of resets, unlocks, lockouts and failures.

mod enrolment;
mod factors;
mod gate;
mod harness;
mod journal;
mod lockout;
mod notices;
mod phone_enrolment;
mod portal;
mod second_factor;
mod sessions;
