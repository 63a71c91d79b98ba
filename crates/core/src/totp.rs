//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30 s
//! steps, one step either side accepted) as a person's authenticator app
//! shows them and they key them on the phone. The arithmetic is the
//! `totp-rs` crate's; this module fixes the parameters, keeps the secret
//! out of `Debug`, and answers with the matched time step so that the
//! caller can refuse a code used before (RFC 6238 §5.2).

use secrecy::{ExposeSecret, SecretBox};
use totp_rs::{Algorithm, Builder, Totp};

/// Digits of a code.
pub const DIGITS: usize = 6;
/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;
/// Bytes of a generated secret (RFC 4226 §4 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// Why a secret or an account name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a TOTP secret must be {SECRET_BYTES} bytes")]
    BadSecret,
    #[error("an authenticator label must not contain ':' and must not be empty")]
    BadLabel,
}

/// A person's TOTP secret.
pub struct TotpSecret(SecretBox<[u8]>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate(rng: &mut impl rand::RngCore) -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(SecretBox::new(bytes.into_boxed_slice()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if bytes.len() != SECRET_BYTES {
            return Err(TotpError::BadSecret);
        }
        Ok(Self(SecretBox::new(bytes.into_boxed_slice())))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    fn totp(&self, issuer: Option<&str>, account: &str) -> Result<Totp, TotpError> {
        let mut builder = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(1)
            .with_step_duration(STEP_SECS)
            .with_secret(self.expose().to_vec());
        if !account.is_empty() {
            builder = builder
                .with_account_name(account)
                .with_issuer(issuer.map(str::to_owned));
        }
        builder.build().map_err(|_| TotpError::BadLabel)
    }

    /// The secret in base32, grouped by four, for typing into an app by hand.
    pub fn base32(&self) -> String {
        let plain = data_encoding::BASE32_NOPAD.encode(self.expose());
        plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `otpauth://totp/…` URI an authenticator app reads from a QR
    /// code, labelled `issuer:account`.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, TotpError> {
        if account.is_empty() || account.contains(':') || issuer.contains(':') {
            return Err(TotpError::BadLabel);
        }
        let issuer = (!issuer.is_empty()).then_some(issuer);
        self.totp(issuer, account)?
            .to_url()
            .map_err(|_| TotpError::BadLabel)
    }

    /// The time step whose code `code` is, if it is the code of the step
    /// of `unix_secs` or of one either side. The comparison takes the same
    /// time whatever the digits.
    pub fn check(&self, code: &str, unix_secs: u64) -> Option<u64> {
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp(None, "").ok()?.check(code, unix_secs)
    }

    /// The code of the step of `unix_secs` (what the app shows then).
    pub fn code_at(&self, unix_secs: u64) -> String {
        match self.totp(None, "") {
            Ok(t) => t.generate(unix_secs).to_string(),
            Err(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        // The RFC lists 8 digits; a 6-digit code is their last six.
        let s = rfc_secret();
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(s.code_at(time), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_says_which_step() {
        let s = rfc_secret();
        let code = s.code_at(1_234_567_890);
        let step = 1_234_567_890 / STEP_SECS;
        assert_eq!(s.check(&code, 1_234_567_890), Some(step));
        assert_eq!(s.check(&code, 1_234_567_890 + 30), Some(step));
        assert_eq!(s.check(&code, 1_234_567_890 - 30), Some(step));
        assert_eq!(s.check(&code, 1_234_567_890 + 90), None);
        assert_eq!(s.check("12345", 1_234_567_890), None);
        assert_eq!(s.check("12345a", 1_234_567_890), None);
        assert_eq!(s.check("", 1_234_567_890), None);
    }

    #[test]
    fn the_uri_carries_the_secret_and_the_label() {
        let s = rfc_secret();
        let uri = s.otpauth_uri("touchtone", "jsmith").unwrap();
        assert!(uri.starts_with("otpauth://totp/touchtone:jsmith?"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=touchtone"), "{uri}");
        assert_eq!(s.otpauth_uri("touchtone", "a:b"), Err(TotpError::BadLabel));
        assert_eq!(s.base32(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert_eq!(format!("{s:?}"), "TotpSecret(…)");
        assert!(TotpSecret::from_bytes(vec![1; 10]).is_err());
    }
}
