//! The intruder lockout: how many wrong answers a caller may give before a
//! person can no longer be verified by any door.
//!
//! Two limits apply together:
//! - **per session**: one API session (one phone call) may fail at most
//!   [`LockoutPolicy::attempts_per_session`] times for a person;
//! - **rolling window**: at most [`LockoutPolicy::max_failures`] failures
//!   within [`LockoutPolicy::window_ms`], across all sessions and doors;
//!   reaching it locks the person for [`LockoutPolicy::lockout_ms`] (or
//!   until an administrator clears it, when that is zero).
//!
//! The store counts the failures; this module only does the arithmetic.

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// Lockout limits. All durations in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failures one session may make for one person before it can no longer
    /// try that person (>= 1).
    pub attempts_per_session: u32,
    /// Failures within the window that lock the person (>= 1).
    pub max_failures: u32,
    /// Length of the rolling window.
    pub window_ms: i64,
    /// How long a lockout lasts; 0 means until an administrator clears it.
    pub lockout_ms: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            attempts_per_session: 3,
            max_failures: 5,
            window_ms: 24 * 60 * 60 * 1000,
            lockout_ms: 30 * 60 * 1000,
        }
    }
}

/// A person's lock as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    pub locked_at: UnixMillis,
    /// `None`: until cleared by an administrator.
    pub locked_until: Option<UnixMillis>,
}

impl LockState {
    /// Whether the lock still holds at `now`.
    pub fn holds_at(&self, now: UnixMillis) -> bool {
        self.locked_until.is_none_or(|until| now < until)
    }
}

impl LockoutPolicy {
    /// Start of the rolling window that ends at `now`.
    pub fn window_start(&self, now: UnixMillis) -> UnixMillis {
        now.saturating_sub(self.window_ms)
    }

    /// Attempts left given the failures already counted (in this session
    /// and in the window). Zero means: no more attempts.
    pub fn attempts_left(&self, session_failures: u32, window_failures: u32) -> u32 {
        let session_left = self.attempts_per_session.saturating_sub(session_failures);
        let window_left = self.max_failures.saturating_sub(window_failures);
        session_left.min(window_left)
    }

    /// Whether this many failures in the window lock the person.
    pub fn locks_after(&self, window_failures: u32) -> bool {
        window_failures >= self.max_failures
    }

    /// The lock to record when the limit is reached at `now`.
    pub fn lock_from(&self, now: UnixMillis) -> LockState {
        LockState {
            locked_at: now,
            locked_until: (self.lockout_ms > 0).then(|| now.saturating_add(self.lockout_ms)),
        }
    }

    /// Checks the limits make sense; returns the name of a bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.attempts_per_session == 0 {
            return Err("attempts_per_session must be at least 1");
        }
        if self.max_failures == 0 {
            return Err("max_failures must be at least 1");
        }
        if self.window_ms <= 0 {
            return Err("the failure window must be longer than zero");
        }
        if self.lockout_ms < 0 {
            return Err("the lockout duration must not be negative");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            attempts_per_session: 3,
            max_failures: 5,
            window_ms: 1_000,
            lockout_ms: 500,
        }
    }

    #[test]
    fn attempts_left_is_the_smaller_of_both_limits() {
        let p = policy();
        assert_eq!(p.attempts_left(0, 0), 3);
        assert_eq!(p.attempts_left(1, 1), 2);
        assert_eq!(p.attempts_left(0, 4), 1);
        assert_eq!(p.attempts_left(3, 3), 0);
        assert_eq!(p.attempts_left(7, 9), 0);
    }

    #[test]
    fn the_window_limit_locks_and_the_lock_expires() {
        let p = policy();
        assert!(!p.locks_after(4));
        assert!(p.locks_after(5));
        let lock = p.lock_from(10_000);
        assert!(lock.holds_at(10_000));
        assert!(lock.holds_at(10_499));
        assert!(!lock.holds_at(10_500));
    }

    #[test]
    fn a_zero_duration_locks_until_cleared() {
        let p = LockoutPolicy {
            lockout_ms: 0,
            ..policy()
        };
        let lock = p.lock_from(10);
        assert_eq!(lock.locked_until, None);
        assert!(lock.holds_at(i64::MAX));
    }

    #[test]
    fn window_start_does_not_overflow() {
        assert_eq!(policy().window_start(i64::MIN), i64::MIN);
        assert_eq!(policy().window_start(5_000), 4_000);
    }

    #[test]
    fn nonsensical_limits_are_rejected() {
        assert!(
            LockoutPolicy {
                attempts_per_session: 0,
                ..policy()
            }
            .validate()
            .is_err()
        );
        assert!(
            LockoutPolicy {
                max_failures: 0,
                ..policy()
            }
            .validate()
            .is_err()
        );
        assert!(
            LockoutPolicy {
                window_ms: 0,
                ..policy()
            }
            .validate()
            .is_err()
        );
        assert!(policy().validate().is_ok());
    }
}
