//! The wire format of touchtone's HTTPS API, in one place: every request
//! and response body the server reads or writes, and the stable error
//! codes, with their OpenAPI schemas. The server's handlers, the IVR's
//! remote backend (a client of the same API) and the OpenAPI document all
//! use these types, so a field cannot be renamed on one side only.
//!
//! - [`error`]: [`ErrorCode`], the stable machine-readable codes, each
//!   knowing its HTTP status, and the error body `{"error": {…}}`.
//! - [`functions`]: the eight remote-API functions (`Login` … `Logout`).
//! - [`enrolment`]: enrolling by phone with a one-time PIN.
//! - [`factors`]: factors beyond questions (TOTP) and the policy's state.
//! - [`calls`]: voice OTP: `/api/v1/calls` and the reference's
//!   `/outbound.cgi` answer.
//!
//! Requests refuse unknown fields, so a misspelt `acounts` is an error
//! rather than a reset of every account. Secrets (passwords, answers,
//! codes) are [`SecretString`]s, which print as `[REDACTED]`; they are
//! written out in clear only when a body is serialised to be sent.
//!
//! [`SecretString`]: touchtone_core::secret::SecretString

pub mod calls;
pub mod enrolment;
pub mod error;
pub mod factors;
pub mod functions;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};

/// Serialises a secret in clear: for request and response bodies, which
/// must carry the password or answer they exist to carry.
pub(crate) fn reveal<S: serde::Serializer>(
    secret: &touchtone_core::secret::SecretString,
    s: S,
) -> Result<S::Ok, S::Error> {
    use touchtone_core::secret::ExposeSecret;
    s.serialize_str(secret.expose_secret())
}

/// [`reveal`] for a list of secrets.
pub(crate) fn reveal_all<S: serde::Serializer>(
    secrets: &[touchtone_core::secret::SecretString],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    use touchtone_core::secret::ExposeSecret;
    let mut seq = s.serialize_seq(Some(secrets.len()))?;
    for secret in secrets {
        seq.serialize_element(secret.expose_secret())?;
    }
    seq.end()
}
