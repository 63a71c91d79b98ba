//! ITU-T E.161 keypad mapping: how a caller keys a user ID on a telephone.
//!
//! Letters map to the digit that carries them (2 ABC, 3 DEF, 4 GHI, 5 JKL,
//! 6 MNO, 7 PQRS, 8 TUV, 9 WXYZ), digits stay, accented letters are folded
//! to their base letter first (`é` → `e` → 3), and everything else is
//! dropped. Different IDs can map to the same digits (`jsmith` and `ksmith`
//! are both 576484): that is why lookups return every match.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest digit string we accept from a keypad (IDs, answers).
pub const MAX_KEYPAD_DIGITS: usize = 64;

/// A non-empty string of ASCII digits `0`–`9`, at most
/// [`MAX_KEYPAD_DIGITS`] long. Validated once, where it enters the system.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeypadDigits(String);

/// Why a string is not a valid [`KeypadDigits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeypadError {
    #[error("no digits were given")]
    Empty,
    #[error("only the digits 0-9 are allowed")]
    NotDigits,
    #[error("at most {MAX_KEYPAD_DIGITS} digits are allowed")]
    TooLong,
}

impl KeypadDigits {
    /// Accepts only digits; use [`map_to_keypad`] first for text.
    pub fn parse(digits: &str) -> Result<Self, KeypadError> {
        if digits.is_empty() {
            return Err(KeypadError::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeypadError::NotDigits);
        }
        if digits.len() > MAX_KEYPAD_DIGITS {
            return Err(KeypadError::TooLong);
        }
        Ok(Self(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `KeypadDigits` is never empty. Present for clippy's
    /// `len_without_is_empty` and for symmetry with `str`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for KeypadDigits {
    type Error = KeypadError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KeypadDigits> for String {
    fn from(value: KeypadDigits) -> Self {
        value.0
    }
}

impl fmt::Display for KeypadDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeypadDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeypadDigits({})", self.0)
    }
}

/// The E.161 digit for one ASCII letter or digit; `None` for anything else.
pub fn keypad_digit(c: char) -> Option<char> {
    let digit = match c.to_ascii_lowercase() {
        d @ '0'..='9' => d,
        'a'..='c' => '2',
        'd'..='f' => '3',
        'g'..='i' => '4',
        'j'..='l' => '5',
        'm'..='o' => '6',
        'p'..='s' => '7',
        't'..='v' => '8',
        'w'..='z' => '9',
        _ => return None,
    };
    Some(digit)
}

/// Maps text to keypad digits: accents folded, letters mapped, digits kept,
/// everything else dropped. The result may be empty.
///
/// ```
/// use touchtone_core::keypad::map_to_keypad;
/// assert_eq!(map_to_keypad("jsmith"), "576484");
/// assert_eq!(map_to_keypad("José-Luis 7"), "567358477");
/// ```
pub fn map_to_keypad(text: &str) -> String {
    // deunicode folds "é" to "e" and "ß" to "ss", which is what a caller who
    // sees the name written down would key.
    deunicode::deunicode(text)
        .chars()
        .filter_map(keypad_digit)
        .collect()
}

/// The keypad ID of a text attribute, or `None` when nothing in it maps to
/// a digit or the result is longer than [`MAX_KEYPAD_DIGITS`].
pub fn keypad_id(text: &str) -> Option<KeypadDigits> {
    KeypadDigits::parse(&map_to_keypad(text)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn letters_map_to_their_e161_keys() {
        assert_eq!(
            map_to_keypad("abcdefghijklmnopqrstuvwxyz"),
            "22233344455566677778889999"
        );
        assert_eq!(
            map_to_keypad("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            map_to_keypad("abcdefghijklmnopqrstuvwxyz")
        );
    }

    #[test]
    fn digits_stay_and_punctuation_is_dropped() {
        assert_eq!(map_to_keypad("e.mp-10_42@x"), "36710429");
        assert_eq!(map_to_keypad(" *#+ "), "");
    }

    #[test]
    fn accents_are_folded_before_mapping() {
        assert_eq!(map_to_keypad("Zoë"), map_to_keypad("Zoe"));
        assert_eq!(map_to_keypad("Müller"), "685537");
        assert_eq!(map_to_keypad("straße"), map_to_keypad("strasse"));
        assert_eq!(map_to_keypad("Ångström"), map_to_keypad("Angstrom"));
    }

    #[test]
    fn colliding_ids_map_to_the_same_digits() {
        assert_eq!(map_to_keypad("jsmith"), "576484");
        assert_eq!(map_to_keypad("ksmith"), "576484");
        assert_eq!(map_to_keypad("ivrtest"), "4878378");
    }

    #[test]
    fn keypad_digits_rejects_non_digits_empty_and_overlong() {
        assert_eq!(KeypadDigits::parse(""), Err(KeypadError::Empty));
        assert_eq!(KeypadDigits::parse("12a"), Err(KeypadError::NotDigits));
        assert_eq!(KeypadDigits::parse("１２"), Err(KeypadError::NotDigits));
        assert_eq!(
            KeypadDigits::parse(&"1".repeat(65)),
            Err(KeypadError::TooLong)
        );
        assert!(KeypadDigits::parse(&"1".repeat(64)).is_ok());
    }

    #[test]
    fn keypad_id_is_none_for_text_without_mappable_characters() {
        assert_eq!(keypad_id("--"), None);
        assert_eq!(
            keypad_id("日本").map(|d| d.to_string()),
            keypad_id(&deunicode::deunicode("日本")).map(|d| d.to_string())
        );
    }

    proptest! {
        #[test]
        fn mapping_yields_only_digits(text in any::<String>()) {
            prop_assert!(map_to_keypad(&text).bytes().all(|b| b.is_ascii_digit()));
        }

        #[test]
        fn mapping_is_idempotent(text in any::<String>()) {
            let once = map_to_keypad(&text);
            prop_assert_eq!(map_to_keypad(&once), once.clone());
        }

        #[test]
        fn mapping_ignores_case(text in "[a-zA-Z0-9 ._-]{0,40}") {
            prop_assert_eq!(map_to_keypad(&text.to_uppercase()), map_to_keypad(&text.to_lowercase()));
        }

        #[test]
        fn each_ascii_alphanumeric_gives_exactly_one_digit(text in "[a-zA-Z0-9]{1,40}") {
            prop_assert_eq!(map_to_keypad(&text).len(), text.len());
        }
    }
}
