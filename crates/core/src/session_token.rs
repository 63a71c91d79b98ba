//! One-time API session IDs.
//!
//! `Login` returns a token; every later call presents the newest token and
//! receives the next one. Only a SHA-256 digest of each token is stored, so
//! a copy of the database cannot be used to hijack a live session.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Length of the base64url text of [`TOKEN_BYTES`] bytes.
const TOKEN_CHARS: usize = 43;

/// A one-time session token as given to a client. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

/// The stored form of a token: hex SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub String);

/// A presented token that cannot be one we issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the session ID is malformed")]
pub struct MalformedToken;

impl SessionToken {
    /// A fresh random token.
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks the shape of a presented token before it reaches the store.
    pub fn parse(text: &str) -> Result<Self, MalformedToken> {
        let well_formed = text.len() == TOKEN_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest(hex_lower(&Sha256::digest(self.0.as_bytes())))
    }

    /// The token text, to be sent to the client and nowhere else.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let mut rng = rand::rng();
        let a = SessionToken::generate(&mut rng);
        let b = SessionToken::generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(SessionToken::parse(a.reveal()).unwrap(), a);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest().0.len(), 64);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(SessionToken::parse("").is_err());
        assert!(SessionToken::parse(&"a".repeat(42)).is_err());
        assert!(SessionToken::parse(&format!("{}=", "a".repeat(42))).is_err());
        assert!(SessionToken::parse(&"a".repeat(43)).is_ok());
    }

    #[test]
    fn debug_hides_the_token() {
        let token = SessionToken::generate(&mut rand::rng());
        assert_eq!(format!("{token:?}"), "SessionToken(***)");
    }
}
