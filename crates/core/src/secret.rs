//! Types for secrets that must never reach a log line or an error message.
//!
//! [`SecretString`] (from `secrecy`) holds passwords and answers in flight;
//! [`Pepper`] holds the server-side key mixed into every answer hash.

pub use secrecy::{ExposeSecret, SecretString};

use std::fmt;

/// The shortest pepper accepted, in bytes.
pub const MIN_PEPPER_BYTES: usize = 16;

/// The server-side secret mixed into answer hashes (argon2's `secret`
/// input). Without it, a stolen database does not let digits-only answers
/// be brute-forced offline.
#[derive(Clone)]
pub struct Pepper(secrecy::SecretBox<[u8]>);

/// Why a pepper was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PepperError {
    #[error("the pepper must be at least {MIN_PEPPER_BYTES} bytes")]
    TooShort,
    #[error("the pepper must be hex-encoded")]
    NotHex,
}

impl Pepper {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PepperError> {
        if bytes.len() < MIN_PEPPER_BYTES {
            return Err(PepperError::TooShort);
        }
        Ok(Self(secrecy::SecretBox::new(bytes.into_boxed_slice())))
    }

    /// Parses a hex-encoded pepper (as written to a pepper file).
    pub fn from_hex(text: &str) -> Result<Self, PepperError> {
        let text = text.trim();
        if !text.len().is_multiple_of(2) {
            return Err(PepperError::NotHex);
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(text.get(i..i + 2).ok_or(PepperError::NotHex)?, 16)
                    .map_err(|_| PepperError::NotHex)
            })
            .collect::<Result<Vec<u8>, _>>()?;
        Self::from_bytes(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pepper_never_prints_its_bytes() {
        let pepper = Pepper::from_hex("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(format!("{pepper:?}"), "Pepper(***)");
        assert_eq!(pepper.expose().len(), 16);
    }

    #[test]
    fn short_or_malformed_peppers_are_refused() {
        assert_eq!(Pepper::from_hex("0011").unwrap_err(), PepperError::TooShort);
        assert_eq!(
            Pepper::from_hex("zz112233445566778899aabbccddeeff").unwrap_err(),
            PepperError::NotHex
        );
        assert_eq!(Pepper::from_hex("0").unwrap_err(), PepperError::NotHex);
    }
}
