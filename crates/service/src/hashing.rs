//! argon2id hashing of answers (with the server-side pepper) and of API
//! user passwords, off the async runtime and bounded in parallelism.
//!
//! Each hash costs ~19 MiB and tens of milliseconds by design. Hashes run
//! on a pool of their own whose threads have a lower scheduling priority
//! (nice 10), so that under load the cheap calls (session rotation,
//! lookups) keep their latency while hashing uses whatever CPU is left; a
//! semaphore bounds the work queued behind the pool. Verifications of
//! missing records run against a dummy hash so that the time taken does
//! not reveal whether a record exists.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use touchtone_core::keypad::KeypadDigits;
use touchtone_core::secret::{ExposeSecret, Pepper, SecretString};

use crate::ServiceError;

#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    pepper: Pepper,
    params: Params,
    /// Bounds jobs queued or running on `pool`.
    permits: Semaphore,
    pool: rayon::ThreadPool,
    /// A hash of a random value, verified in place of a missing one.
    dummy_hash: String,
    /// Seals secrets under a key derived from the same pepper.
    sealer: crate::sealing::Sealer,
}

impl Hasher {
    /// `params`: argon2 cost (use `Params::default()`, OWASP's m=19 MiB,
    /// t=2, p=1, unless measured otherwise); `max_parallel`: hashes at once
    /// (more than one per core gains nothing).
    pub fn new(pepper: Pepper, params: Params, max_parallel: usize) -> Self {
        let threads = max_parallel.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .expect("starting the hashing threads");
        let dummy_salt = SaltString::generate(&mut OsRng);
        let dummy_hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"touchtone dummy value", &dummy_salt)
            .expect("hashing a constant with valid params succeeds")
            .to_string();
        let sealer = crate::sealing::Sealer::from_pepper(&pepper);
        Self {
            inner: Arc::new(Inner {
                sealer,
                pepper,
                params,
                permits: Semaphore::new(threads * 4),
                pool,
                dummy_hash,
            }),
        }
    }

    /// Seals secrets the service reads back (TOTP secrets) under a key
    /// derived from the pepper.
    pub fn sealer(&self) -> &crate::sealing::Sealer {
        &self.inner.sealer
    }

    fn peppered(&self) -> Result<Argon2<'_>, ServiceError> {
        Argon2::new_with_secret(
            self.inner.pepper.expose(),
            Algorithm::Argon2id,
            Version::V0x13,
            self.inner.params.clone(),
        )
        .map_err(|e| ServiceError::Internal(format!("argon2 with pepper: {e}")))
    }

    fn plain(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.inner.params.clone(),
        )
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Hasher) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("hasher closed".into()))?;
        let this = self.clone();
        let (done, result) = tokio::sync::oneshot::channel();
        self.inner.pool.spawn(move || {
            // The receiver is gone only if the request was dropped.
            let _ = done.send(work(&this));
        });
        result
            .await
            .map_err(|_| ServiceError::Internal("a hashing job was lost".into()))
    }

    /// Hashes a normalised answer with the pepper.
    pub async fn hash_answer(&self, answer: KeypadDigits) -> Result<String, ServiceError> {
        self.blocking(move |h| {
            let salt = SaltString::generate(&mut OsRng);
            h.peppered()?
                .hash_password(answer.as_str().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| ServiceError::Internal(format!("hashing an answer: {e}")))
        })
        .await?
    }

    /// Verifies every `(stored hash, given answer)` pair, always all of
    /// them: a missing hash or answer costs a dummy verification and counts
    /// as wrong. Returns whether all were right.
    pub async fn verify_answers(
        &self,
        pairs: Vec<(Option<String>, Option<KeypadDigits>)>,
    ) -> Result<bool, ServiceError> {
        self.blocking(move |h| {
            let argon = h.peppered()?;
            let mut all_right = true;
            for (hash, answer) in pairs {
                let present = hash.is_some() && answer.is_some();
                let hash = hash.unwrap_or_else(|| h.inner.dummy_hash.clone());
                let answer = answer.map_or_else(String::new, |a| a.as_str().to_owned());
                let right = PasswordHash::new(&hash)
                    .map(|parsed| argon.verify_password(answer.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false);
                // `&=` rather than `&&`: never skip the next verification.
                all_right &= right & present;
            }
            Ok(all_right)
        })
        .await?
    }

    /// Hashes an API user's password (no pepper: rotating the pepper must
    /// not lock out the IVR platforms).
    pub async fn hash_password(&self, password: SecretString) -> Result<String, ServiceError> {
        self.blocking(move |h| {
            let salt = SaltString::generate(&mut OsRng);
            h.plain()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| ServiceError::Internal(format!("hashing a password: {e}")))
        })
        .await?
    }

    /// Verifies an API user's password; `None` (no such user) verifies
    /// against the dummy hash and is always false.
    pub async fn verify_password(
        &self,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, ServiceError> {
        self.blocking(move |h| {
            let present = hash.is_some();
            let hash = hash.unwrap_or_else(|| h.inner.dummy_hash.clone());
            let right = PasswordHash::new(&hash)
                .map(|parsed| {
                    h.plain()
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            right && present
        })
        .await
    }
}

/// Gives the calling thread nice 10. Linux applies `setpriority` with a
/// thread ID to that thread alone; elsewhere this does nothing.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on integers; no memory is shared. A
        // failure only leaves the priority unchanged, so it is ignored.
        unsafe {
            let thread = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, 10);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Hasher {
        let pepper = Pepper::from_bytes(vec![7; 32]).unwrap();
        Hasher::new(pepper, Params::new(1024, 1, 1, None).unwrap(), 2)
    }

    #[tokio::test]
    async fn answers_verify_only_with_the_same_pepper() {
        let h = hasher();
        let hash = h
            .hash_answer(KeypadDigits::parse("2468").unwrap())
            .await
            .unwrap();
        let ok = h
            .verify_answers(vec![(Some(hash.clone()), KeypadDigits::parse("2468").ok())])
            .await
            .unwrap();
        assert!(ok);
        let other = Hasher::new(
            Pepper::from_bytes(vec![8; 32]).unwrap(),
            Params::new(1024, 1, 1, None).unwrap(),
            2,
        );
        assert!(
            !other
                .verify_answers(vec![(Some(hash), KeypadDigits::parse("2468").ok())])
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn one_wrong_or_missing_answer_fails_the_set() {
        let h = hasher();
        let a = h
            .hash_answer(KeypadDigits::parse("111").unwrap())
            .await
            .unwrap();
        let b = h
            .hash_answer(KeypadDigits::parse("222").unwrap())
            .await
            .unwrap();
        let d = |s: &str| KeypadDigits::parse(s).ok();
        assert!(
            h.verify_answers(vec![
                (Some(a.clone()), d("111")),
                (Some(b.clone()), d("222"))
            ])
            .await
            .unwrap()
        );
        assert!(
            !h.verify_answers(vec![
                (Some(a.clone()), d("999")),
                (Some(b.clone()), d("222"))
            ])
            .await
            .unwrap()
        );
        assert!(
            !h.verify_answers(vec![(Some(a.clone()), d("111")), (Some(b), None)])
                .await
                .unwrap()
        );
        assert!(!h.verify_answers(vec![(None, d("111"))]).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_api_user_never_verifies() {
        let h = hasher();
        let pw = || SecretString::from("demo-password".to_owned());
        let hash = h.hash_password(pw()).await.unwrap();
        assert!(h.verify_password(Some(hash), pw()).await.unwrap());
        assert!(!h.verify_password(None, pw()).await.unwrap());
    }
}
