//! The TOTP factor: a person sets up an authenticator app in the portal
//! (a QR code of an `otpauth://` URI, confirmed with one code) and keys its
//! code on the phone. Secrets are sealed with a key derived from the
//! pepper ([`crate::sealing`]) and bound to their person; a code is
//! accepted once only (its time step is spent in the same statement that
//! accepts it), and wrong codes count toward the intruder lockout like
//! wrong answers ([`super::api`]). Setting the app up is the portal's
//! ([`crate::portal::authenticator`]).

use touchtone_core::totp::TotpSecret;
use touchtone_store::{AnyConnection, totp_secrets};

use crate::{Service, ServiceError};

pub(crate) fn bound_to(person_id: &str) -> String {
    format!("totp:{person_id}")
}

/// The Unix time of `now_ms`, in seconds.
pub(crate) fn unix_secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms / 1000).unwrap_or(0)
}

impl Service {
    pub(crate) fn open_totp(
        &self,
        person_id: &str,
        sealed: &str,
    ) -> Result<TotpSecret, ServiceError> {
        let plain = self.hasher().sealer().open(sealed, &bound_to(person_id))?;
        TotpSecret::from_bytes(plain)
            .map_err(|e| ServiceError::Internal(format!("a stored TOTP secret: {e}")))
    }

    /// Whether `code` is the current code of the person's confirmed app,
    /// spending its time step so it is not accepted again. A replayed code
    /// is refused like a wrong one.
    pub(crate) async fn accept_totp(
        &self,
        conn: &mut AnyConnection,
        person_id: &str,
        code: &str,
        now: i64,
    ) -> Result<bool, ServiceError> {
        let Some(sealed) = totp_secrets::get(conn, person_id)
            .await?
            .and_then(|r| r.sealed)
        else {
            return Ok(false);
        };
        let secret = self.open_totp(person_id, &sealed)?;
        let Some(step) = secret.check(code, unix_secs(now)) else {
            return Ok(false);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        Ok(totp_secrets::spend_step(conn, person_id, step).await?)
    }
}
