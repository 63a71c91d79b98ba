//! Sealing secrets the service must read back (people's TOTP secrets):
//! XChaCha20-Poly1305 under a key derived from the pepper with HKDF-SHA256,
//! so the key lives where the pepper lives (a file beside the config,
//! never in the database) and a copy of the database alone reveals
//! nothing. Each sealed value is bound to what it belongs to (the
//! associated data, e.g. `totp:jsmith`): moved to another person's row,
//! it no longer opens.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use touchtone_core::secret::Pepper;

use crate::ServiceError;

/// Which key of the pepper this is; a new version would be a new key.
const KEY_INFO: &[u8] = b"touchtone sealing key v1";
const NONCE_BYTES: usize = 24;

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

impl Sealer {
    pub fn from_pepper(pepper: &Pepper) -> Self {
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, pepper.expose())
            .expand(KEY_INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// `plain` sealed for `bound_to`, as text for a database column.
    pub fn seal(&self, plain: &[u8], bound_to: &str) -> Result<String, ServiceError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| ServiceError::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD_NO_PAD.encode(out))
    }

    /// Opens what [`Sealer::seal`] made for `bound_to`. A value sealed
    /// under another pepper, for something else, or altered, does not open.
    pub fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, ServiceError> {
        let bytes = STANDARD_NO_PAD
            .decode(sealed)
            .map_err(|_| ServiceError::Internal("a sealed secret is not base64".into()))?;
        if bytes.len() < NONCE_BYTES {
            return Err(ServiceError::Internal(
                "a sealed secret is too short".into(),
            ));
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| {
                ServiceError::Internal(
                    "a sealed secret does not open: another pepper, or altered".into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::from_pepper(&Pepper::from_bytes(vec![byte; 32]).unwrap())
    }

    #[test]
    fn opens_only_with_the_same_pepper_for_the_same_owner_unaltered() {
        let s = sealer(7);
        let sealed = s.seal(b"twenty bytes secret!", "totp:jsmith").unwrap();
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            s.open(&sealed, "totp:jsmith").unwrap(),
            b"twenty bytes secret!"
        );
        assert!(
            s.open(&sealed, "totp:lsmith").is_err(),
            "bound to its owner"
        );
        assert!(
            sealer(8).open(&sealed, "totp:jsmith").is_err(),
            "another pepper"
        );
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(s.open(&altered, "totp:jsmith").is_err(), "altered");
        assert!(s.open("", "totp:jsmith").is_err());
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(s.seal(b"x", "a").unwrap(), s.seal(b"x", "a").unwrap());
    }
}
