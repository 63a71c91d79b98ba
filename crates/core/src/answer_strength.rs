//! Whether an answer a person enrols is too weak to protect them.
//!
//! Answers are keyed on a phone, so what counts is the digit string the
//! answer maps to ([`crate::answer::normalise_answer`]). A digit string
//! that is short, one digit repeated, a run (`1234`, `9876`), the person's
//! own user ID or keypad ID, the same as another of their answers, or, for
//! a year question, a year no one was born or married in, is refused with
//! the reason, so the portal can tell the person what to change.

use crate::keypad::KeypadDigits;

/// What kind of answer a question expects, which decides the extra checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Free text (a name, a place): only the digit-string checks.
    Text,
    /// A four-digit year, between [`AnswerContext::earliest_year`] and the
    /// current year.
    Year,
    /// A number (a house number, a PIN-like fact).
    Number,
}

impl AnswerKind {
    /// `text`, `year` or `number` (anything else is text).
    pub fn parse(kind: &str) -> AnswerKind {
        match kind {
            "year" => AnswerKind::Year,
            "number" => AnswerKind::Number,
            _ => AnswerKind::Text,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Text => "text",
            AnswerKind::Year => "year",
            AnswerKind::Number => "number",
        }
    }
}

/// Why an answer is refused. Each carries what a message needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakAnswer {
    #[error("the answer must be at least {min} digits on the keypad")]
    TooShort { min: usize },
    #[error("the answer must be at most {max} digits on the keypad")]
    TooLong { max: usize },
    #[error("the answer is one digit repeated")]
    OneDigitRepeated,
    #[error("the answer is a run of digits such as 1234")]
    Run,
    #[error("the answer is your own user ID")]
    UserId,
    #[error("the answer is a year outside {from} to {to}")]
    YearOutOfRange { from: u32, to: u32 },
    #[error("the answer keys the same digits as another of your answers")]
    SameAsAnother,
}

impl WeakAnswer {
    /// A stable code for the wire (`too_short`, `run`, …).
    pub fn code(&self) -> &'static str {
        match self {
            WeakAnswer::TooShort { .. } => "too_short",
            WeakAnswer::TooLong { .. } => "too_long",
            WeakAnswer::OneDigitRepeated => "one_digit_repeated",
            WeakAnswer::Run => "run",
            WeakAnswer::UserId => "user_id",
            WeakAnswer::YearOutOfRange { .. } => "year_out_of_range",
            WeakAnswer::SameAsAnother => "same_as_another",
        }
    }
}

/// What an answer is judged against: the question and the person.
#[derive(Debug, Clone)]
pub struct AnswerContext<'a> {
    pub kind: AnswerKind,
    pub min_digits: usize,
    pub max_digits: usize,
    /// The person's keypad IDs (their user ID, employee number, … as
    /// digits): none of them may be an answer.
    pub keypad_ids: &'a [KeypadDigits],
    /// The current year (passed in: this crate has no clock).
    pub current_year: u32,
    /// The earliest year a year question accepts.
    pub earliest_year: u32,
}

/// Checks one answer's digits against its question and person.
pub fn check_answer(digits: &KeypadDigits, context: &AnswerContext<'_>) -> Result<(), WeakAnswer> {
    let text = digits.as_str();
    let bytes = text.as_bytes();
    if digits.len() < context.min_digits {
        return Err(WeakAnswer::TooShort {
            min: context.min_digits,
        });
    }
    if digits.len() > context.max_digits {
        return Err(WeakAnswer::TooLong {
            max: context.max_digits,
        });
    }
    if context.kind == AnswerKind::Year {
        let (from, to) = (context.earliest_year, context.current_year);
        let year = text.parse::<u32>().ok().filter(|_| text.len() == 4);
        if !year.is_some_and(|y| (from..=to).contains(&y)) {
            return Err(WeakAnswer::YearOutOfRange { from, to });
        }
    }
    if bytes.iter().all(|&b| b == bytes[0]) {
        return Err(WeakAnswer::OneDigitRepeated);
    }
    let step = |a: u8, b: u8| i16::from(b) - i16::from(a);
    let first = step(bytes[0], bytes[1]);
    if first.abs() == 1 && bytes.windows(2).all(|w| step(w[0], w[1]) == first) {
        return Err(WeakAnswer::Run);
    }
    if context.keypad_ids.iter().any(|id| id == digits) {
        return Err(WeakAnswer::UserId);
    }
    Ok(())
}

/// Checks a whole set of answers: each alone, then that no two key the
/// same digits. Returns each refused answer's index and reason.
pub fn check_answers(answers: &[(KeypadDigits, AnswerContext<'_>)]) -> Vec<(usize, WeakAnswer)> {
    let mut refused = Vec::new();
    for (i, (digits, context)) in answers.iter().enumerate() {
        if let Err(reason) = check_answer(digits, context) {
            refused.push((i, reason));
        } else if answers[..i].iter().any(|(earlier, _)| earlier == digits) {
            refused.push((i, WeakAnswer::SameAsAnother));
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> KeypadDigits {
        KeypadDigits::parse(s).unwrap()
    }

    fn context(kind: AnswerKind, ids: &[KeypadDigits]) -> AnswerContext<'_> {
        AnswerContext {
            kind,
            min_digits: 3,
            max_digits: 12,
            keypad_ids: ids,
            current_year: 2026,
            earliest_year: 1900,
        }
    }

    #[test]
    fn weak_answers_are_refused_with_their_reason() {
        let ids = [d("253423"), d("1001")];
        let text = context(AnswerKind::Text, &ids);
        assert_eq!(
            check_answer(&d("73"), &text),
            Err(WeakAnswer::TooShort { min: 3 })
        );
        assert_eq!(
            check_answer(&d("1234567890123"), &text),
            Err(WeakAnswer::TooLong { max: 12 })
        );
        assert_eq!(
            check_answer(&d("7777"), &text),
            Err(WeakAnswer::OneDigitRepeated)
        );
        assert_eq!(check_answer(&d("1234"), &text), Err(WeakAnswer::Run));
        assert_eq!(check_answer(&d("6543"), &text), Err(WeakAnswer::Run));
        assert_eq!(check_answer(&d("253423"), &text), Err(WeakAnswer::UserId));
        assert_eq!(check_answer(&d("739"), &text), Ok(()));
        // A run needs every step the same: 1235 is not one.
        assert_eq!(check_answer(&d("1235"), &text), Ok(()));
    }

    #[test]
    fn a_year_question_takes_only_a_sensible_year() {
        let year = context(AnswerKind::Year, &[]);
        let range = WeakAnswer::YearOutOfRange {
            from: 1900,
            to: 2026,
        };
        assert_eq!(check_answer(&d("1956"), &year), Ok(()));
        assert_eq!(check_answer(&d("2468"), &year), Err(range.clone()));
        assert_eq!(check_answer(&d("1899"), &year), Err(range.clone()));
        assert_eq!(check_answer(&d("195"), &year), Err(range.clone()));
        assert_eq!(check_answer(&d("19560"), &year), Err(range));
        assert_eq!(check_answer(&d("2026"), &year), Ok(()));
    }

    #[test]
    fn two_answers_may_not_key_the_same_digits() {
        let ids: [KeypadDigits; 0] = [];
        let answers = vec![
            (d("739"), context(AnswerKind::Text, &ids)),
            (d("2673"), context(AnswerKind::Text, &ids)),
            (d("739"), context(AnswerKind::Text, &ids)),
            (d("1111"), context(AnswerKind::Text, &ids)),
        ];
        assert_eq!(
            check_answers(&answers),
            vec![
                (2, WeakAnswer::SameAsAnother),
                (3, WeakAnswer::OneDigitRepeated)
            ]
        );
    }

    proptest! {
        /// Whatever is refused, for a reason that can be read back.
        #[test]
        fn every_digit_string_is_judged_without_panicking(s in "[0-9]{1,64}") {
            let ids = [d("576484")];
            for kind in [AnswerKind::Text, AnswerKind::Year, AnswerKind::Number] {
                if let Err(reason) = check_answer(&d(&s), &context(kind, &ids)) {
                    prop_assert!(!reason.to_string().is_empty());
                }
            }
        }

        /// An accepted answer is never a repeated digit or a run.
        #[test]
        fn accepted_answers_are_neither_repeats_nor_runs(s in "[0-9]{3,12}") {
            if check_answer(&d(&s), &context(AnswerKind::Text, &[])).is_ok() {
                let b = s.as_bytes();
                prop_assert!(b.iter().any(|&c| c != b[0]));
                let up = b.windows(2).all(|w| w[1] == w[0] + 1);
                let down = b.windows(2).all(|w| w[0] == w[1] + 1);
                prop_assert!(!up && !down);
            }
        }
    }
}
