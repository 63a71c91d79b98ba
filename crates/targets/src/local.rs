//! The local target: accounts in touchtone's own database
//! (`touchtone_store::local_directory`), with argon2id password hashes.
//! Useful on its own for small sites and for the demo, where a reset can be
//! checked with `touchtone accounts check-password`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version, password_hash::rand_core::OsRng};
use async_trait::async_trait;
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::{Store, audit, local_directory};

use crate::{ResetOptions, Target, TargetError, UnlockOutcome};

pub struct LocalTarget {
    name: String,
    policy: PasswordPolicy,
    store: Store,
    params: Params,
}

impl LocalTarget {
    /// A local target hashing new passwords with argon2id's default cost.
    pub fn new(name: impl Into<String>, policy: PasswordPolicy, store: Store) -> Self {
        Self {
            name: name.into(),
            policy,
            store,
            params: Params::default(),
        }
    }

    /// Hashes new passwords at another argon2id cost (existing hashes keep
    /// the cost they were made with).
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }
}

/// Hashes a password for the local directory with argon2id at `params`.
pub fn hash_password(password: &SecretString, params: Params) -> Result<String, TargetError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| TargetError::Failed(format!("hashing: {e}")))
}

fn unavailable(e: impl std::fmt::Display) -> TargetError {
    TargetError::Unavailable(e.to_string())
}

#[async_trait]
impl Target for LocalTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    async fn set_password(
        &self,
        account: &str,
        password: &SecretString,
        options: ResetOptions,
    ) -> Result<(), TargetError> {
        let violations = self.policy.check(password.expose_secret());
        if let Some(first) = violations.first() {
            return Err(TargetError::PolicyRejected(first.to_string()));
        }
        let password = password.clone();
        let params = self.params.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password, params))
            .await
            .map_err(|e| TargetError::Failed(e.to_string()))??;
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        audit::lock_head(&mut tx).await.map_err(unavailable)?;
        let Some(found) = local_directory::get(&mut tx, account)
            .await
            .map_err(unavailable)?
        else {
            return Err(TargetError::NoSuchAccount);
        };
        if found.disabled {
            return Err(TargetError::AccountDisabled);
        }
        let now = now_ms();
        local_directory::set_password(&mut tx, account, &hash, options.must_change, now)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(())
    }

    async fn unlock(&self, account: &str) -> Result<UnlockOutcome, TargetError> {
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        audit::lock_head(&mut tx).await.map_err(unavailable)?;
        let Some(found) = local_directory::get(&mut tx, account)
            .await
            .map_err(unavailable)?
        else {
            return Err(TargetError::NoSuchAccount);
        };
        if found.disabled {
            return Err(TargetError::AccountDisabled);
        }
        if !found.locked {
            return Ok(UnlockOutcome::WasNotLocked);
        }
        local_directory::set_locked(&mut tx, account, false)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(UnlockOutcome::Unlocked)
    }

    /// The stored hash decides; argon2's comparison is constant-time.
    async fn check_password(
        &self,
        account: &str,
        password: &SecretString,
    ) -> Result<bool, TargetError> {
        let mut conn = self.store.acquire().await.map_err(unavailable)?;
        let Some(found) = local_directory::get(&mut conn, account)
            .await
            .map_err(unavailable)?
        else {
            return Err(TargetError::NoSuchAccount);
        };
        let Some(hash) = found.password_hash else {
            return Ok(false);
        };
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| TargetError::Failed(format!("stored hash: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|e| TargetError::Failed(e.to_string()))?
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
