//! Setting up an authenticator app (the TOTP factor): the page shows a
//! new secret as a QR code of its `otpauth://` URI (and as text to type),
//! and the person confirms it with the app's current code. An app already
//! set up keeps working until a new one is confirmed. Changing it needs a
//! recent password, like answers and phones.

use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::totp::TotpSecret;
use touchtone_store::totp_secrets;

use super::{DOOR, PortalError};
use crate::factors::totp::{bound_to, unix_secs};
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service, ServiceError};

/// How long a secret shown in the portal may be confirmed.
const PENDING_MS: i64 = 15 * 60 * 1000;

/// The portal's view of a person's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorView {
    /// When the confirmed app was set up, if there is one.
    pub confirmed_at: Option<i64>,
    /// A secret shown and waiting for its first code.
    pub pending: Option<PendingAuthenticator>,
}

/// A secret being set up: what the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthenticator {
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The secret in base32 for typing in by hand.
    pub key: String,
}

impl Service {
    /// The person's authenticator app as the portal shows it.
    pub async fn portal_authenticator(
        &self,
        token: &str,
    ) -> Result<AuthenticatorView, PortalError> {
        let (_, person) = self.live_session(token).await?;
        let mut conn = self.store().acquire().await?;
        let row = totp_secrets::get(&mut conn, &person.id).await?;
        drop(conn);
        let now = self.now();
        let Some(row) = row else {
            return Ok(AuthenticatorView {
                confirmed_at: None,
                pending: None,
            });
        };
        let pending = match (&row.pending, row.pending_at) {
            (Some(sealed), Some(at)) if now - at < PENDING_MS => {
                let secret = self.open_totp(&person.id, sealed)?;
                let uri = secret
                    .otpauth_uri(&self.settings().verification.totp_issuer, &person.id)
                    .map_err(|e| ServiceError::Internal(format!("a TOTP label: {e}")))?;
                Some(PendingAuthenticator {
                    uri,
                    key: secret.base32(),
                })
            }
            _ => None,
        };
        Ok(AuthenticatorView {
            confirmed_at: row.sealed.as_ref().and(row.confirmed_at),
            pending,
        })
    }

    /// Creates a new secret for the person to scan (replacing one shown
    /// before; an app already confirmed keeps working until the new one
    /// is confirmed).
    pub async fn portal_authenticator_begin(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<AuthenticatorView, PortalError> {
        let person = self.recent_session(token).await?;
        let issuer = &self.settings().verification.totp_issuer;
        let secret = TotpSecret::generate(&mut rand::rng());
        // A login that cannot label an app (a ':' in it) is refused here,
        // before anything is stored.
        secret
            .otpauth_uri(issuer, &person.id)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let sealed = self
            .hasher()
            .sealer()
            .seal(secret.expose(), &bound_to(&person.id))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        totp_secrets::set_pending(&mut tx, &person.id, &sealed, now).await?;
        append_audit(
            &mut tx,
            DOOR,
            "portal_authenticator_begin",
            &person.id,
            "ok",
            json!({"ip": caller.ip.to_string()}),
            now,
        )
        .await?;
        commit(tx).await?;
        self.portal_authenticator(token).await
    }

    /// Confirms the secret shown with its current code: true when it was
    /// right and the app is now the person's. A wrong code changes nothing
    /// (the person is signed in; it is not a verification).
    pub async fn portal_authenticator_confirm(
        &self,
        caller: &Caller,
        token: &str,
        code: &str,
    ) -> Result<bool, PortalError> {
        let person = self.recent_session(token).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let Some(row) = totp_secrets::get(&mut tx, &person.id).await? else {
            return Ok(false);
        };
        let (Some(pending), Some(at)) = (row.pending, row.pending_at) else {
            return Ok(false);
        };
        if now - at >= PENDING_MS {
            return Ok(false);
        }
        let secret = self.open_totp(&person.id, &pending)?;
        let Some(step) = secret.check(code.trim(), unix_secs(now)) else {
            append_audit(
                &mut tx,
                DOOR,
                "portal_authenticator_confirm",
                &person.id,
                "wrong_code",
                json!({"ip": caller.ip.to_string()}),
                now,
            )
            .await?;
            commit(tx).await?;
            return Ok(false);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if !totp_secrets::confirm(&mut tx, &person.id, &pending, step, now).await? {
            return Ok(false);
        }
        self.record_change(
            &mut tx,
            caller,
            &person.id,
            EventType::AuthenticatorAdded,
            "portal_authenticator_confirm",
            json!({}),
        )
        .await?;
        commit(tx).await?;
        Ok(true)
    }

    /// Removes the person's authenticator app (and any being set up).
    pub async fn portal_authenticator_remove(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<bool, PortalError> {
        let person = self.recent_session(token).await?;
        let mut tx = self.store().begin().await?;
        let removed = totp_secrets::remove(&mut tx, &person.id).await?;
        if removed {
            self.record_change(
                &mut tx,
                caller,
                &person.id,
                EventType::AuthenticatorRemoved,
                "portal_authenticator_remove",
                json!({}),
            )
            .await?;
        }
        commit(tx).await?;
        Ok(removed)
    }
}
