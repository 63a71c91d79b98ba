//! Answer normalisation: what is hashed at enrolment and what is compared
//! when a caller keys an answer.
//!
//! An answer must be keyable on a phone, so both the enrolled text
//! ("Fluffy") and the keyed digits ("358839") are reduced to keypad digits
//! with [`crate::keypad::map_to_keypad`]. The reduced form has little
//! entropy; the pepper and the lockout protect it, not the hash alone.

use crate::keypad::{KeypadDigits, KeypadError, map_to_keypad};

/// Normalises an answer (enrolled text or keyed digits) to keypad digits.
///
/// Fails when nothing in the answer maps to a digit or it is too long.
/// `*` and `#` (terminators a caller may key) are dropped.
pub fn normalise_answer(answer: &str) -> Result<KeypadDigits, KeypadError> {
    KeypadDigits::parse(&map_to_keypad(answer))
}

/// The shortest answer accepted at enrolment: fewer digits than this are
/// too easy to guess even with a lockout.
pub const MIN_ENROLLED_DIGITS: usize = 3;

/// Why an answer cannot be enrolled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error("the answer has no letters or digits that can be keyed on a phone")]
    NotKeyable,
    #[error("the answer is too long to key on a phone")]
    TooLong,
    #[error("the answer must map to at least {MIN_ENROLLED_DIGITS} keypad digits")]
    TooShort,
    #[error("the answer maps to {digits} digits, more than the question's {max_digits}")]
    LongerThanQuestionAllows { digits: usize, max_digits: usize },
}

/// Normalises an answer for enrolment and checks it fits the question.
pub fn normalise_for_enrolment(
    answer: &str,
    max_digits: usize,
) -> Result<KeypadDigits, EnrolError> {
    let digits = normalise_answer(answer).map_err(|e| match e {
        KeypadError::TooLong => EnrolError::TooLong,
        KeypadError::Empty | KeypadError::NotDigits => EnrolError::NotKeyable,
    })?;
    if digits.len() < MIN_ENROLLED_DIGITS {
        return Err(EnrolError::TooShort);
    }
    if digits.len() > max_digits {
        return Err(EnrolError::LongerThanQuestionAllows {
            digits: digits.len(),
            max_digits,
        });
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_keyed_digits_normalise_alike() {
        assert_eq!(
            normalise_answer("Fluffy").unwrap(),
            normalise_answer("358339").unwrap()
        );
        assert_eq!(normalise_answer("2468#").unwrap().as_str(), "2468");
        assert_eq!(normalise_answer("*2468").unwrap().as_str(), "2468");
    }

    #[test]
    fn enrolment_rejects_short_unkeyable_and_overlong_answers() {
        assert_eq!(normalise_for_enrolment("ab", 10), Err(EnrolError::TooShort));
        assert_eq!(
            normalise_for_enrolment("!!!", 10),
            Err(EnrolError::NotKeyable)
        );
        assert_eq!(
            normalise_for_enrolment("Springfield", 6),
            Err(EnrolError::LongerThanQuestionAllows {
                digits: 11,
                max_digits: 6
            })
        );
        assert_eq!(normalise_for_enrolment("Rex", 6).unwrap().as_str(), "739");
    }
}
