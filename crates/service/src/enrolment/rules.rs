//! What an enrolled answer is judged against, whichever way it is enrolled
//! (the portal, the phone): the question's digits and kind, the person's
//! own IDs (none may be an answer) and the years a year question accepts.
//! The rules themselves are `touchtone_core::answer_strength`.

use touchtone_core::answer_strength::{AnswerContext, AnswerKind};
use touchtone_core::keypad::{KeypadDigits, keypad_id};
use touchtone_store::questions::Question as QuestionRow;
use touchtone_store::{AnyConnection, people as person_rows};

use crate::ServiceError;
use crate::settings::EnrolmentSettings;

/// A person's side of the judgement.
pub(crate) struct Judge {
    keypad_ids: Vec<KeypadDigits>,
    current_year: u32,
    earliest_year: u32,
}

impl Judge {
    pub(crate) async fn for_person(
        conn: &mut AnyConnection,
        person_id: &str,
        settings: &EnrolmentSettings,
        now_ms: i64,
    ) -> Result<Judge, ServiceError> {
        let mut keypad_ids: Vec<KeypadDigits> = person_rows::keypad_ids(conn, person_id)
            .await?
            .into_iter()
            .filter_map(|(_, digits)| KeypadDigits::parse(&digits).ok())
            .collect();
        keypad_ids.extend(keypad_id(person_id));
        Ok(Judge {
            keypad_ids,
            current_year: year_of(now_ms),
            earliest_year: settings.earliest_year,
        })
    }

    /// The context an answer to `question` is judged in.
    pub(crate) fn context(&self, question: &QuestionRow) -> AnswerContext<'_> {
        AnswerContext {
            kind: AnswerKind::parse(&question.kind),
            min_digits: usize::try_from(question.min_digits).unwrap_or(3),
            max_digits: usize::try_from(question.max_digits).unwrap_or(64),
            keypad_ids: &self.keypad_ids,
            current_year: self.current_year,
            earliest_year: self.earliest_year,
        }
    }
}

/// The calendar year of a Unix time in milliseconds (UTC).
fn year_of(now_ms: i64) -> u32 {
    time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .map_or(2000, |t| u32::try_from(t.year()).unwrap_or(2000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_of_a_time() {
        assert_eq!(year_of(0), 1970);
        // 2026-12-02T00:00:00Z and 2024-02-29T12:00:00Z.
        assert_eq!(year_of(1_796_169_600_000), 2026);
        assert_eq!(year_of(1_709_208_000_000), 2024);
        assert_eq!(year_of(1_735_689_599_999), 2024);
        assert_eq!(year_of(1_735_689_600_000), 2025);
    }
}
