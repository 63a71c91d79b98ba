//! The local target: accounts in touchtone's own database
//! (`touchtone_store::local_directory`), with argon2id password hashes.
//! Useful on its own for small sites and for the demo, where a reset can be
//! checked with `touchtone accounts check-password`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version, password_hash::rand_core::OsRng};
use async_trait::async_trait;
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::{AnyConnection, Store, audit, local_directory};

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

/// Because the accounts live in touchtone's own database, a change can be
/// made inside the caller's transaction, so that the change and the record
/// of it commit together (or not at all) and a crash never leaves its
/// outcome unknown.
impl LocalTarget {
    /// Checks `password` against the policy and hashes it: the slow part,
    /// done before any transaction is open.
    pub async fn prepare_password(&self, password: &SecretString) -> Result<String, TargetError> {
        let violations = self.policy.check(password.expose_secret());
        if let Some(first) = violations.first() {
            return Err(TargetError::PolicyRejected(first.to_string()));
        }
        let password = password.clone();
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_password(&password, params))
            .await
            .map_err(|e| TargetError::Failed(e.to_string()))?
    }

    /// Sets a hash from [`LocalTarget::prepare_password`] on `account`
    /// inside `conn`'s transaction. A refusal writes nothing, so the
    /// transaction stays usable.
    pub async fn set_password_in(
        &self,
        conn: &mut AnyConnection,
        account: &str,
        hash: &str,
        options: ResetOptions,
        now: i64,
    ) -> Result<(), TargetError> {
        self.usable_account(conn, account).await?;
        local_directory::set_password(conn, account, hash, options.must_change, now)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Clears the lock of `account` inside `conn`'s transaction.
    pub async fn unlock_in(
        &self,
        conn: &mut AnyConnection,
        account: &str,
    ) -> Result<UnlockOutcome, TargetError> {
        if !self.usable_account(conn, account).await?.locked {
            return Ok(UnlockOutcome::WasNotLocked);
        }
        local_directory::set_locked(conn, account, false)
            .await
            .map_err(unavailable)?;
        Ok(UnlockOutcome::Unlocked)
    }

    /// The account, when it exists and is enabled; first takes the write
    /// lock (on SQLite) in the order every writer takes it.
    async fn usable_account(
        &self,
        conn: &mut AnyConnection,
        account: &str,
    ) -> Result<local_directory::LocalAccount, TargetError> {
        audit::lock_head(conn).await.map_err(unavailable)?;
        let Some(found) = local_directory::get(conn, account)
            .await
            .map_err(unavailable)?
        else {
            return Err(TargetError::NoSuchAccount);
        };
        if found.disabled {
            return Err(TargetError::AccountDisabled);
        }
        Ok(found)
    }
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

    fn as_local(&self) -> Option<&LocalTarget> {
        Some(self)
    }

    async fn set_password(
        &self,
        account: &str,
        password: &SecretString,
        options: ResetOptions,
    ) -> Result<(), TargetError> {
        let hash = self.prepare_password(password).await?;
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        self.set_password_in(&mut tx, account, &hash, options, now_ms())
            .await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(())
    }

    async fn unlock(&self, account: &str) -> Result<UnlockOutcome, TargetError> {
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        let outcome = self.unlock_in(&mut tx, account).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(outcome)
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
