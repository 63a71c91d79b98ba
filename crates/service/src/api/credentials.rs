//! Checking an API user's name and password, for `Login` and for the
//! voice-OTP doors (which carry the password in every request).
//!
//! Every door shares the same rules: throttling per name and per address
//! before any password is checked, one indistinguishable refusal for an
//! unknown user, a wrong password and an address outside the allow-list
//! (the audit row says which), and a failure record that counts for all
//! doors. The throttle is a back-off, not a lock: past the limit an attempt
//! waits out a back-off after the latest failure, so guessing is slowed to
//! a crawl while the IVR platform's right password gets through within a
//! minute. Only failures from inside an API user's allow-list count
//! toward its name, so strangers cannot throttle it at all.
//!
//! Left as it is: an unknown name never gathers per-name failures, so a
//! caller holding two or more addresses inside a real API user's
//! allow-list could tell that name from an unknown one by the 429; such a
//! caller is one of the deployment's own IVR platforms.
//!
//! A request-per-call API cannot afford argon2 (tens of milliseconds) on
//! every request, so a password that verified is remembered for a short
//! time as an HMAC under a key that lives only in this process's memory;
//! the next request with the same password is checked against that tag in
//! constant time. A changed password hash, a miss, or age ends the entry.
//! No password, and nothing a password could be recovered from without the
//! process's key, is kept.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::api_users::{self, ApiUser};
use touchtone_store::login_throttle::{self, Failures};

use super::login::address_allowed;
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service, ServiceError};

/// An API user as the doors see it: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUserInfo {
    pub name: String,
    /// CIDR networks it may call from.
    pub allowed_networks: Vec<String>,
    /// May reset and unlock people it has not verified (a helpdesk).
    pub privileged: bool,
}

impl From<ApiUser> for ApiUserInfo {
    fn from(u: ApiUser) -> ApiUserInfo {
        ApiUserInfo {
            name: u.name,
            allowed_networks: u.allowed_networks,
            privileged: u.privileged,
        }
    }
}

/// How long a verified password is remembered.
const REMEMBER_MS: i64 = 60_000;
/// Entries kept at most (then the cache is emptied and refilled).
const MAX_ENTRIES: usize = 4096;

struct Remembered {
    tag: [u8; 32],
    password_hash: String,
    until: i64,
}

/// Recently verified API-user passwords, as keyed tags.
pub(crate) struct CredentialCache {
    key: [u8; 32],
    entries: Mutex<HashMap<String, Remembered>>,
}

impl CredentialCache {
    pub(crate) fn new() -> CredentialCache {
        CredentialCache {
            key: rand::random(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn tag(&self, user: &str, password: &SecretString) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.expose_secret().as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn knows(&self, user: &ApiUser, password: &SecretString, now: i64) -> bool {
        let tag = self.tag(&user.name, password);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&user.name).is_some_and(|r| {
            r.until > now && r.password_hash == user.password_hash && bool::from(r.tag.ct_eq(&tag))
        })
    }

    fn remember(&self, user: &ApiUser, password: &SecretString, now: i64) {
        let tag = self.tag(&user.name, password);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            user.name.clone(),
            Remembered {
                tag,
                password_hash: user.password_hash.clone(),
                until: now + REMEMBER_MS,
            },
        );
    }
}

impl Service {
    /// Checks `user`'s `password` from `caller`; `action` names the door in
    /// the audit (`Login`, `otp_call`). Refusals are counted, audited and
    /// answered with [`ServiceError::InvalidCredentials`] whatever the
    /// reason; too many recent refusals give [`ServiceError::Throttled`].
    pub async fn authenticate(
        &self,
        caller: &Caller,
        user: &str,
        password: SecretString,
        action: &str,
    ) -> Result<ApiUserInfo, ServiceError> {
        super::check_id("user", user)?;
        let now = self.now();
        let ip = caller.ip.to_string();
        let since = now - self.settings().login_window_ms;
        let mut conn = self.store().acquire().await?;
        // Reserved names (the built-in IVR's) never log in.
        let api_user = if user.starts_with('@') {
            None
        } else {
            api_users::get(&mut conn, user).await?
        };
        // Whether this refusal or success is the API user's own business:
        // an address outside its allow-list is refused whatever the
        // password, so its failures must not throttle the name (that let
        // anyone who could reach the port cut the IVR platform off).
        let address_ok = api_user
            .as_ref()
            .is_some_and(|u| address_allowed(&u.allowed_networks, caller.ip));
        let (by_user, by_ip) = login_throttle::counts(&mut conn, user, &ip, since).await?;
        drop(conn);
        if self.backing_off(by_ip, now) || (address_ok && self.backing_off(by_user, now)) {
            self.audit(caller, user, action, user, "throttled", json!({}))
                .await?;
            return Err(ServiceError::Throttled);
        }

        let password_ok = match &api_user {
            Some(u) if self.inner.credentials.knows(u, &password, now) => true,
            _ => {
                let ok = self
                    .hasher()
                    .verify_password(
                        api_user.as_ref().map(|u| u.password_hash.clone()),
                        password.clone(),
                    )
                    .await?;
                if let (true, Some(u)) = (ok, &api_user) {
                    self.inner.credentials.remember(u, &password, now);
                }
                ok
            }
        };
        let refusal = match (&api_user, password_ok, address_ok) {
            (None, _, _) => Some("unknown_api_user"),
            (Some(_), false, _) => Some("wrong_password"),
            (Some(_), true, false) => Some("address_not_allowed"),
            (Some(_), true, true) => None,
        };
        match (refusal, api_user) {
            (None, Some(api_user)) => Ok(api_user.into()),
            (reason, _) => {
                let reason = reason.unwrap_or("unknown_api_user");
                let mut tx = self.store().begin().await?;
                login_throttle::record(&mut tx, user, &ip, address_ok, now).await?;
                append_audit(
                    &mut tx,
                    user,
                    action,
                    user,
                    "invalid_credentials",
                    json!({"ip": ip, "reason": reason, "door": caller.door.as_str()}),
                    now,
                )
                .await?;
                commit(tx).await?;
                tracing::info!(api_user = %user, %ip, reason, action, "credentials refused");
                Err(ServiceError::InvalidCredentials)
            }
        }
    }

    /// Whether `failures` still hold logins back at `now`: from the limit
    /// on, until a back-off has passed since the latest failure — one
    /// second, doubling with each failure past the limit, at most
    /// `login_backoff_max_ms`. A throttled attempt is not itself a failure,
    /// so waiting out the back-off always gets one more try; that bounds
    /// guessing while a legitimate client is never shut out for long.
    fn backing_off(&self, failures: Failures, now: i64) -> bool {
        let settings = self.settings();
        let Some(past) = failures.count.checked_sub(settings.login_max_failures) else {
            return false;
        };
        let backoff = 1000_i64
            .checked_shl(past.min(40))
            .unwrap_or(i64::MAX)
            .min(settings.login_backoff_max_ms);
        now.saturating_sub(failures.latest) < backoff
    }
}
