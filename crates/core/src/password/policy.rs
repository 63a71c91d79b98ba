//! Password policies of target systems.
//!
//! Each target declares the policy its system enforces; a password for a
//! person must satisfy all of their targets at once, so the service merges
//! them with [`PasswordPolicy::strictest`] before generating or checking.

use serde::{Deserialize, Serialize};

/// What a password must look like. Character classes are ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub min_uppercase: usize,
    pub min_lowercase: usize,
    pub min_digits: usize,
    pub min_symbols: usize,
    /// The symbols the system accepts; any other non-alphanumeric character
    /// is refused.
    pub allowed_symbols: String,
    /// The longest run of one repeated character (0: no limit).
    pub max_repeated: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 64,
            min_uppercase: 1,
            min_lowercase: 1,
            min_digits: 1,
            min_symbols: 0,
            allowed_symbols: "!#%+=?@".to_owned(),
            max_repeated: 2,
        }
    }
}

/// One way a password breaks a policy. Carries no part of the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("shorter than {0} characters")]
    TooShort(usize),
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("fewer than {0} uppercase letters")]
    TooFewUppercase(usize),
    #[error("fewer than {0} lowercase letters")]
    TooFewLowercase(usize),
    #[error("fewer than {0} digits")]
    TooFewDigits(usize),
    #[error("fewer than {0} symbols")]
    TooFewSymbols(usize),
    #[error("contains a character the target does not accept")]
    DisallowedCharacter,
    #[error("repeats one character more than {0} times in a row")]
    TooManyRepeats(usize),
}

/// Policies that no single password can satisfy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the targets' password policies cannot all be met: {0}")]
pub struct PolicyConflict(pub String);

impl PasswordPolicy {
    /// The shortest length that can hold every required class.
    pub fn required_characters(&self) -> usize {
        self.min_uppercase + self.min_lowercase + self.min_digits + self.min_symbols
    }

    /// A policy that every password satisfying it also satisfies each of
    /// `policies`. Fails when they contradict each other.
    pub fn strictest<'a>(
        policies: impl IntoIterator<Item = &'a PasswordPolicy>,
    ) -> Result<PasswordPolicy, PolicyConflict> {
        let mut merged: Option<PasswordPolicy> = None;
        for p in policies {
            merged = Some(match merged {
                None => p.clone(),
                Some(m) => PasswordPolicy {
                    min_length: m.min_length.max(p.min_length),
                    max_length: m.max_length.min(p.max_length),
                    min_uppercase: m.min_uppercase.max(p.min_uppercase),
                    min_lowercase: m.min_lowercase.max(p.min_lowercase),
                    min_digits: m.min_digits.max(p.min_digits),
                    min_symbols: m.min_symbols.max(p.min_symbols),
                    allowed_symbols: m
                        .allowed_symbols
                        .chars()
                        .filter(|c| p.allowed_symbols.contains(*c))
                        .collect(),
                    max_repeated: match (m.max_repeated, p.max_repeated) {
                        (0, x) | (x, 0) => x,
                        (a, b) => a.min(b),
                    },
                },
            });
        }
        let merged = merged.unwrap_or_default();
        merged.validate()?;
        Ok(merged)
    }

    /// Checks the policy itself can be met.
    pub fn validate(&self) -> Result<(), PolicyConflict> {
        if self.max_length == 0 || self.min_length > self.max_length {
            return Err(PolicyConflict(format!(
                "minimum length {} exceeds maximum length {}",
                self.min_length, self.max_length
            )));
        }
        if self.required_characters() > self.max_length {
            return Err(PolicyConflict(format!(
                "{} required characters do not fit in {}",
                self.required_characters(),
                self.max_length
            )));
        }
        if self.min_symbols > 0 && self.allowed_symbols.is_empty() {
            return Err(PolicyConflict(
                "symbols are required but no symbol is accepted by all targets".into(),
            ));
        }
        if !self
            .allowed_symbols
            .chars()
            .all(|c| c.is_ascii_punctuation())
        {
            return Err(PolicyConflict(
                "allowed_symbols may hold only ASCII punctuation".into(),
            ));
        }
        Ok(())
    }

    /// Every way `password` breaks this policy (empty when it complies).
    pub fn check(&self, password: &str) -> Vec<PolicyViolation> {
        let mut violations = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            violations.push(PolicyViolation::TooShort(self.min_length));
        }
        if length > self.max_length {
            violations.push(PolicyViolation::TooLong(self.max_length));
        }
        let count = |f: fn(&char) -> bool| password.chars().filter(f).count();
        if count(char::is_ascii_uppercase) < self.min_uppercase {
            violations.push(PolicyViolation::TooFewUppercase(self.min_uppercase));
        }
        if count(char::is_ascii_lowercase) < self.min_lowercase {
            violations.push(PolicyViolation::TooFewLowercase(self.min_lowercase));
        }
        if count(char::is_ascii_digit) < self.min_digits {
            violations.push(PolicyViolation::TooFewDigits(self.min_digits));
        }
        let symbols = password
            .chars()
            .filter(|c| !c.is_ascii_alphanumeric())
            .count();
        if symbols < self.min_symbols {
            violations.push(PolicyViolation::TooFewSymbols(self.min_symbols));
        }
        if password
            .chars()
            .any(|c| !c.is_ascii_alphanumeric() && !self.allowed_symbols.contains(c))
        {
            violations.push(PolicyViolation::DisallowedCharacter);
        }
        if self.max_repeated > 0 && longest_run(password) > self.max_repeated {
            violations.push(PolicyViolation::TooManyRepeats(self.max_repeated));
        }
        violations
    }
}

fn longest_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut previous = None;
    for c in text.chars() {
        run = if Some(c) == previous { run + 1 } else { 1 };
        previous = Some(c);
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reports_each_violation() {
        let p = PasswordPolicy {
            min_symbols: 1,
            ..PasswordPolicy::default()
        };
        assert!(p.check("Abcdef7!").is_empty());
        let v = p.check("abc");
        assert!(v.contains(&PolicyViolation::TooShort(8)));
        assert!(v.contains(&PolicyViolation::TooFewUppercase(1)));
        assert!(v.contains(&PolicyViolation::TooFewDigits(1)));
        assert!(v.contains(&PolicyViolation::TooFewSymbols(1)));
        assert_eq!(
            p.check("Abcdef7 !"),
            vec![PolicyViolation::DisallowedCharacter]
        );
        assert_eq!(
            p.check("Abcccf7!"),
            vec![PolicyViolation::TooManyRepeats(2)]
        );
        assert!(
            p.check("Abcdéf7!")
                .contains(&PolicyViolation::DisallowedCharacter)
        );
    }

    #[test]
    fn strictest_takes_the_tightest_bound_of_each() {
        let a = PasswordPolicy {
            min_length: 10,
            max_length: 20,
            min_symbols: 1,
            allowed_symbols: "!#@".into(),
            ..PasswordPolicy::default()
        };
        let b = PasswordPolicy {
            min_length: 8,
            max_length: 14,
            min_digits: 2,
            allowed_symbols: "#@%".into(),
            max_repeated: 0,
            ..PasswordPolicy::default()
        };
        let m = PasswordPolicy::strictest([&a, &b]).unwrap();
        assert_eq!(
            (m.min_length, m.max_length, m.min_digits, m.min_symbols),
            (10, 14, 2, 1)
        );
        assert_eq!(m.allowed_symbols, "#@");
        assert_eq!(m.max_repeated, 2);
    }

    #[test]
    fn contradictory_policies_conflict() {
        let a = PasswordPolicy {
            min_length: 16,
            ..PasswordPolicy::default()
        };
        let b = PasswordPolicy {
            max_length: 12,
            ..PasswordPolicy::default()
        };
        assert!(PasswordPolicy::strictest([&a, &b]).is_err());
        let c = PasswordPolicy {
            min_symbols: 1,
            allowed_symbols: "!".into(),
            ..PasswordPolicy::default()
        };
        let d = PasswordPolicy {
            allowed_symbols: "#".into(),
            ..PasswordPolicy::default()
        };
        assert!(PasswordPolicy::strictest([&c, &d]).is_err());
    }

    #[test]
    fn no_policies_merge_to_the_default() {
        assert_eq!(
            PasswordPolicy::strictest([]).unwrap(),
            PasswordPolicy::default()
        );
    }
}
