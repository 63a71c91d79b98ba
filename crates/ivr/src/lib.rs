//! Call flows: what a caller hears and keys, as state machines over a
//! [`Line`] (the engine's `Channel` plus a [`Voice`] that turns what the
//! flow wants said into audio), calling the use cases through a
//! [`Backend`].
//!
//! - [`flow::ResetFlow`]: the phone password-reset call (identify by
//!   keypad ID, security questions, new password read out, reset and/or
//!   unlock, transfer to the helpdesk).
//! - [`backend`]: the flow's view of the service, in process
//!   ([`backend::InProcess`], the default) or over this server's HTTPS
//!   remote API ([`backend::Remote`]), so the IVR can run at another site.
//! - [`prompt_set`]: the fixed vocabulary (digits, the phonetic alphabet,
//!   the sentences of every flow) per language, rendered to 8 kHz µ-law by
//!   `scripts/render-prompts`, embedded in the binary by `build.rs`, any
//!   prompt replaceable by an operator's recording.
//! - [`voice`] and [`tts`]: fixed prompts from the prompt set, free text
//!   (questions, names) by espeak-ng, cached by content hash, falling back
//!   to an operator's recording or spelling.
//! - [`line`]: the [`Line`] trait, its SIP implementation, and
//!   [`line::ScriptedLine`] for tests.
//! - [`handler::IvrHandler`]: plugs a flow into the SIP engine.
//! - [`otp`]: voice-OTP calls: the speak and verify flows, and the worker
//!   that places queued calls through the engine's trunk.
//!
//! The IVR never checks an answer, counts a failure or decides who may be
//! reset: the service does, for this door exactly as for the HTTPS one.

pub mod backend;
pub mod flow;
pub mod handler;
pub mod line;
pub mod otp;
pub mod prompt_set;
pub mod say;
pub mod tts;
pub mod voice;

pub use backend::{Backend, BackendError, BackendSession, CallContext};
pub use flow::{FlowOutcome, FlowSettings, ResetFlow};
pub use handler::IvrHandler;
pub use line::Line;
pub use prompt_set::{PromptSet, PromptSetError};
pub use say::Say;
pub use voice::Voice;
