//! Random passwords that survive being read out over a phone line.
//!
//! The alphabet leaves out one side of every pair that looks alike when
//! written down: `0 O o Q D` and `1 l I i j |` entirely, and the letters of
//! `2 Z z`, `5 S s`, `6 G b`, `8 B` and `9 g q` (the digits stay), and letters whose upper and lower case look the same when handwritten
//! (`c k p u v w x y`), so that what the caller writes matches what they
//! type. Symbols are limited to ones with short unambiguous names.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::policy::{PasswordPolicy, PolicyConflict};

pub const SAFE_UPPERCASE: &str = "AEFHJLMNRT";
pub const SAFE_LOWERCASE: &str = "adefhmnrt";
pub const SAFE_DIGITS: &str = "23456789";
/// Symbols whose spoken names are unmistakable (see `phonetic`).
pub const SAFE_SYMBOLS: &str = "!#%+=?@";

/// Generates a password of `preferred_length` characters (raised to the
/// policy's minimum and to what its required classes need, lowered to its
/// maximum) that satisfies `policy`.
pub fn generate<R: Rng + ?Sized>(
    policy: &PasswordPolicy,
    preferred_length: usize,
    rng: &mut R,
) -> Result<String, PolicyConflict> {
    policy.validate()?;
    let length = preferred_length
        .max(policy.min_length)
        .max(policy.required_characters())
        .min(policy.max_length);

    let upper: Vec<char> = SAFE_UPPERCASE.chars().collect();
    let lower: Vec<char> = SAFE_LOWERCASE.chars().collect();
    let digits: Vec<char> = SAFE_DIGITS.chars().collect();
    let mut symbols: Vec<char> = SAFE_SYMBOLS
        .chars()
        .filter(|c| policy.allowed_symbols.contains(*c))
        .collect();
    if symbols.is_empty() && policy.min_symbols > 0 {
        // The target accepts only symbols we would rather not read out;
        // meeting its policy matters more.
        symbols = policy.allowed_symbols.chars().collect();
    }

    // Retrying is simpler than constructing around the repeat limit, and a
    // repeat of three from these alphabets is rare.
    for _ in 0..100 {
        let mut chars = Vec::with_capacity(length);
        for (class, count) in [
            (&upper, policy.min_uppercase),
            (&lower, policy.min_lowercase),
            (&digits, policy.min_digits),
            (&symbols, policy.min_symbols),
        ] {
            for _ in 0..count {
                chars.push(
                    *class
                        .choose(rng)
                        .expect("class alphabets are non-empty when required"),
                );
            }
        }
        // Fill the rest mostly with letters and digits: symbols are slow to
        // read out and to type on a phone keyboard.
        let filler: Vec<char> = upper.iter().chain(&lower).chain(&digits).copied().collect();
        while chars.len() < length {
            chars.push(*filler.choose(rng).expect("filler alphabet is non-empty"));
        }
        chars.shuffle(rng);
        let password: String = chars.into_iter().collect();
        if policy.check(&password).is_empty() {
            return Ok(password);
        }
    }
    Err(PolicyConflict(
        "no compliant password was found in 100 tries".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_policy_passwords_comply_and_use_only_safe_characters() {
        let policy = PasswordPolicy::default();
        let safe: String = [SAFE_UPPERCASE, SAFE_LOWERCASE, SAFE_DIGITS, SAFE_SYMBOLS].concat();
        let mut rng = rand::rng();
        for _ in 0..500 {
            let pw = generate(&policy, 10, &mut rng).unwrap();
            assert_eq!(pw.len(), 10);
            assert!(policy.check(&pw).is_empty(), "{pw}");
            assert!(pw.chars().all(|c| safe.contains(c)), "{pw}");
        }
    }

    #[test]
    fn look_alikes_are_absent_from_the_alphabet() {
        let safe: String = [SAFE_UPPERCASE, SAFE_LOWERCASE, SAFE_DIGITS, SAFE_SYMBOLS].concat();
        for c in "0OoQD1lIij|ZzSsGbBgqckpuvwxy".chars() {
            assert!(!safe.contains(c), "{c} is easily confused");
        }
    }

    #[test]
    fn length_is_clamped_to_the_policy() {
        let policy = PasswordPolicy {
            min_length: 12,
            max_length: 14,
            ..PasswordPolicy::default()
        };
        let mut rng = rand::rng();
        assert_eq!(generate(&policy, 4, &mut rng).unwrap().len(), 12);
        assert_eq!(generate(&policy, 40, &mut rng).unwrap().len(), 14);
    }

    #[test]
    fn an_unsatisfiable_policy_is_an_error() {
        let policy = PasswordPolicy {
            min_length: 10,
            max_length: 5,
            ..PasswordPolicy::default()
        };
        assert!(generate(&policy, 8, &mut rand::rng()).is_err());
    }

    proptest! {
        #[test]
        fn generated_passwords_meet_any_satisfiable_policy(
            min_length in 1usize..20,
            extra in 0usize..20,
            min_upper in 0usize..4,
            min_lower in 0usize..4,
            min_digits in 0usize..4,
            min_symbols in 0usize..3,
            symbols in prop::sample::select(vec!["!#%+=?@", "#", "$&", "-_"]),
            max_repeated in 0usize..4,
            preferred in 0usize..30,
        ) {
            let required = min_upper + min_lower + min_digits + min_symbols;
            let policy = PasswordPolicy {
                min_length,
                max_length: min_length.max(required) + extra,
                min_uppercase: min_upper,
                min_lowercase: min_lower,
                min_digits,
                min_symbols,
                allowed_symbols: symbols.to_owned(),
                max_repeated: if max_repeated == 1 { 2 } else { max_repeated },
            };
            let pw = generate(&policy, preferred, &mut rand::rng()).unwrap();
            prop_assert!(policy.check(&pw).is_empty(), "{} breaks {:?}", pw, policy);
        }
    }
}
