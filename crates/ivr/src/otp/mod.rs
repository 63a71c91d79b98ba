//! Voice OTP over the telephone: the callee's side of the call
//! ([`flow`]: speak the code, or have it keyed in) and the worker that
//! places queued calls through the engine ([`worker`]).

pub mod flow;
pub mod worker;

pub use flow::{OtpFlowSettings, OtpRecord};
pub use worker::{OtpWorker, WorkerSettings};
