//! Enrolment: the question pool and the answers people enrol. An answer is
//! normalised to keypad digits and kept only as a peppered argon2id hash;
//! nothing here ever returns one.
//!
//! - this file: the pool, and an operator enrolling one answer;
//! - [`import`]: answers imported in bulk from another system;
//! - [`report`]: who is enrolled, by person and by department;
//! - [`reminders`]: reminder e-mails to those who are not (yet);
//! - `rules`: what an answer is judged against, for every way of enrolling.
//!
//! (People enrol themselves through [`crate::portal`].)

pub mod import;
pub mod reminders;
pub mod report;
pub(crate) mod rules;

use serde_json::json;
use touchtone_core::answer::normalise_for_enrolment;
use touchtone_core::answer_strength::AnswerKind;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::people;
use touchtone_store::questions::{self, Question as QuestionRow};

use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// A security question: one of the pool, or one a person wrote for
/// themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    /// What the caller hears (spoken by espeak-ng, or an operator's
    /// recording `question-ID.wav`).
    pub text: String,
    /// The shortest and the longest answer, in keypad digits.
    pub min_digits: i64,
    pub max_digits: i64,
    /// How an answer is judged (a year question takes only a sensible year).
    pub kind: AnswerKind,
    /// Written by the person who answers it (nobody else is asked it).
    pub own: bool,
}

impl Question {
    /// A pool question of free text, answers of 3 to `max_digits` digits.
    pub fn text(id: &str, text: &str, max_digits: i64) -> Question {
        Question {
            id: id.to_owned(),
            text: text.to_owned(),
            min_digits: MIN_DIGITS,
            max_digits,
            kind: AnswerKind::Text,
            own: false,
        }
    }
}

/// The shortest answer a question may allow.
pub const MIN_DIGITS: i64 = touchtone_core::answer::MIN_ENROLLED_DIGITS as i64;

impl From<QuestionRow> for Question {
    fn from(q: QuestionRow) -> Question {
        Question {
            id: q.id,
            text: q.text,
            min_digits: q.min_digits,
            max_digits: q.max_digits,
            kind: AnswerKind::parse(&q.kind),
            own: q.owner.is_some(),
        }
    }
}

impl Service {
    /// Adds (or replaces) a question of the pool.
    pub async fn add_question(&self, actor: &str, question: &Question) -> Result<(), ServiceError> {
        crate::api::check_id("id", &question.id)?;
        if question.text.trim().is_empty() || !(3..=64).contains(&question.max_digits) {
            return Err(ServiceError::BadRequest(
                "a question needs text and max_digits from 3 to 64".into(),
            ));
        }
        if !(MIN_DIGITS..=question.max_digits).contains(&question.min_digits) {
            return Err(ServiceError::BadRequest(format!(
                "min_digits must be from {MIN_DIGITS} to max_digits"
            )));
        }
        let now = self.now();
        let row = QuestionRow {
            id: question.id.clone(),
            text: question.text.clone(),
            min_digits: question.min_digits,
            max_digits: question.max_digits,
            kind: question.kind.as_str().to_owned(),
            owner: None,
        };
        let mut tx = self.admin_tx().await?;
        questions::upsert(&mut tx, &row).await?;
        append_audit(
            &mut tx,
            actor,
            "question_add",
            &question.id,
            "ok",
            json!({}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(())
    }

    pub async fn list_questions(&self) -> Result<Vec<Question>, ServiceError> {
        let mut conn = self.store().acquire().await?;
        Ok(questions::list(&mut conn)
            .await?
            .into_iter()
            .map(Question::from)
            .collect())
    }

    /// Enrols (or replaces) a person's answer to a question. The answer is
    /// normalised to keypad digits and stored only as a peppered hash.
    pub async fn enroll_answer(
        &self,
        actor: &str,
        person_id: &str,
        question_id: &str,
        answer: &SecretString,
    ) -> Result<(), ServiceError> {
        let question = {
            let mut conn = self.store().acquire().await?;
            if people::get(&mut conn, person_id).await?.is_none() {
                return Err(ServiceError::UnknownUser);
            }
            questions::get(&mut conn, question_id)
                .await?
                .ok_or_else(|| ServiceError::BadRequest(format!("no question {question_id}")))?
        };
        let max_digits = usize::try_from(question.max_digits).unwrap_or(0);
        let digits = normalise_for_enrolment(answer.expose_secret(), max_digits)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let hash = self.hasher().hash_answer(digits).await?;
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        questions::set_answer(&mut tx, person_id, question_id, &hash, now).await?;
        append_audit(
            &mut tx,
            actor,
            "answer_enrol",
            person_id,
            "ok",
            json!({"question": question_id}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(())
    }
}
