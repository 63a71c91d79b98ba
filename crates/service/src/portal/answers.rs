//! Enrolling answers in the portal: the person chooses
//! `enrolment.questions_required` questions from the pool (or writes one
//! of their own), types each answer twice, and the set replaces what they
//! had, in one transaction with its audit row and `ET_ENROLMENT_CHANGED`.
//!
//! Each answer is judged as it will be keyed on the phone (its keypad
//! digits) by `touchtone_core::answer_strength`: too short, one digit
//! repeated, a run, the person's own user ID or keypad ID, a year out of
//! range, the same digits as another answer. Every problem is reported
//! with the slot it concerns, and nothing is changed until there are none.
//! Answers are normalised and hashed exactly as operator enrolment does.

use std::collections::HashSet;

use serde_json::json;
use touchtone_core::answer::normalise_answer;
use touchtone_core::answer_strength::{AnswerContext, AnswerKind, WeakAnswer, check_answers};
use touchtone_core::event::EventType;
use touchtone_core::keypad::{KeypadDigits, KeypadError};
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::questions::{self, Question as QuestionRow};

use super::{DOOR, PortalError};
use crate::enrolment::rules::Judge;
use crate::events::EventRouter;
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service};

/// The longest question a person may write for themselves, in characters.
pub const OWN_QUESTION_MAX_CHARS: usize = 200;
/// Digits an answer to a person's own question may have.
const OWN_QUESTION_DIGITS: (i64, i64) = (4, 16);

/// A question the person may choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormQuestion {
    pub id: String,
    pub text: String,
    pub kind: AnswerKind,
    pub min_digits: i64,
    pub max_digits: i64,
    /// The person wrote it.
    pub own: bool,
    /// The person has an answer to it now.
    pub enrolled: bool,
}

/// What the answers page offers.
#[derive(Debug, Clone)]
pub struct EnrolmentForm {
    pub questions: Vec<FormQuestion>,
    /// How many questions to answer (one slot each).
    pub required: usize,
    /// Whether a slot may hold a question of the person's own.
    pub allow_own: bool,
    /// The password was given recently enough to submit.
    pub recently_authenticated: bool,
}

/// Which question a slot answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenQuestion {
    /// A question of the pool (or an own question kept), by ID.
    Existing(String),
    /// A question the person writes now.
    Own(String),
}

/// One slot of the form.
#[derive(Debug, Clone)]
pub struct AnswerChoice {
    pub question: Option<ChosenQuestion>,
    pub answer: SecretString,
    pub confirm: SecretString,
}

/// What is wrong with one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProblem {
    /// The slot (0-based).
    pub slot: usize,
    pub reason: ProblemReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemReason {
    NoQuestion,
    UnknownQuestion,
    /// The same question is chosen in two slots.
    QuestionTwice,
    /// An own question must have text, at most [`OWN_QUESTION_MAX_CHARS`].
    OwnQuestionText,
    /// The two entries differ.
    Mismatch,
    /// Nothing in the answer can be keyed on a phone.
    NotKeyable,
    Weak(WeakAnswer),
    /// The form had a different number of slots than the policy asks.
    WrongCount {
        required: usize,
    },
}

/// One answer as enrolled: the question and the digits the person keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledAnswer {
    pub question: String,
    pub keypad: String,
}

impl Service {
    /// The questions the session's person may choose.
    pub async fn portal_enrolment_form(
        &self,
        _caller: &Caller,
        token: &str,
    ) -> Result<EnrolmentForm, PortalError> {
        let (session, person) = self.live_session(token).await?;
        let mut conn = self.store().acquire().await?;
        let enrolled: HashSet<String> = questions::enrolled(&mut conn, &person.id)
            .await?
            .into_iter()
            .map(|q| q.id)
            .collect();
        let questions = questions::list_for(&mut conn, &person.id)
            .await?
            .into_iter()
            .map(|q| FormQuestion {
                enrolled: enrolled.contains(&q.id),
                kind: AnswerKind::parse(&q.kind),
                own: q.owner.is_some(),
                id: q.id,
                text: q.text,
                min_digits: q.min_digits,
                max_digits: q.max_digits,
            })
            .collect();
        let settings = &self.settings().enrolment;
        Ok(EnrolmentForm {
            questions,
            required: settings.questions_required,
            allow_own: settings.allow_own_question,
            recently_authenticated: session.recently_authenticated,
        })
    }

    /// Replaces the session's person's answers with `choices`.
    pub async fn portal_enrol(
        &self,
        caller: &Caller,
        token: &str,
        choices: Vec<AnswerChoice>,
    ) -> Result<Vec<EnrolledAnswer>, PortalError> {
        let person = self.recent_session(token).await?;
        let settings = self.settings().enrolment.clone();
        let (pool, judge) = {
            let mut conn = self.store().acquire().await?;
            let pool = questions::list_for(&mut conn, &person.id).await?;
            let judge = Judge::for_person(&mut conn, &person.id, &settings, self.now()).await?;
            (pool, judge)
        };
        let mut problems = Vec::new();
        if choices.len() != settings.questions_required {
            problems.push(AnswerProblem {
                slot: 0,
                reason: ProblemReason::WrongCount {
                    required: settings.questions_required,
                },
            });
            return Err(PortalError::Invalid(problems));
        }
        // Each slot's question (as it will be stored) and answer digits.
        let mut slots: Vec<Option<(QuestionRow, KeypadDigits)>> = Vec::new();
        let mut chosen_ids = HashSet::new();
        for (slot, choice) in choices.iter().enumerate() {
            let mut problem = |reason| problems.push(AnswerProblem { slot, reason });
            let question = match &choice.question {
                None => {
                    problem(ProblemReason::NoQuestion);
                    None
                }
                Some(ChosenQuestion::Existing(id)) => match pool.iter().find(|q| &q.id == id) {
                    Some(q) if !chosen_ids.insert(q.id.clone()) => {
                        problem(ProblemReason::QuestionTwice);
                        None
                    }
                    Some(q) => Some(q.clone()),
                    None => {
                        problem(ProblemReason::UnknownQuestion);
                        None
                    }
                },
                Some(ChosenQuestion::Own(text)) => {
                    let text = text.trim();
                    if !settings.allow_own_question {
                        problem(ProblemReason::UnknownQuestion);
                        None
                    } else if text.is_empty()
                        || text.chars().count() > OWN_QUESTION_MAX_CHARS
                        || text.chars().any(char::is_control)
                    {
                        problem(ProblemReason::OwnQuestionText);
                        None
                    } else {
                        Some(QuestionRow {
                            id: format!("own-{}", uuid::Uuid::new_v4().simple()),
                            text: text.to_owned(),
                            min_digits: OWN_QUESTION_DIGITS.0,
                            max_digits: OWN_QUESTION_DIGITS.1,
                            kind: AnswerKind::Text.as_str().to_owned(),
                            owner: Some(person.id.clone()),
                        })
                    }
                }
            };
            let answer = choice.answer.expose_secret();
            let digits = if answer != choice.confirm.expose_secret() {
                problem(ProblemReason::Mismatch);
                None
            } else {
                match normalise_answer(answer) {
                    Ok(digits) => Some(digits),
                    Err(KeypadError::TooLong) => {
                        problem(ProblemReason::Weak(WeakAnswer::TooLong {
                            max: question.as_ref().map_or(64, |q| q.max_digits) as usize,
                        }));
                        None
                    }
                    Err(_) => {
                        problem(ProblemReason::NotKeyable);
                        None
                    }
                }
            };
            slots.push(question.zip(digits));
        }
        // The strength rules, on the slots that got that far.
        let judged: Vec<(usize, KeypadDigits, AnswerContext<'_>)> = slots
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| s.as_ref().map(|(q, d)| (slot, q, d)))
            .map(|(slot, q, digits)| (slot, digits.clone(), judge.context(q)))
            .collect();
        let pairs: Vec<(KeypadDigits, AnswerContext<'_>)> = judged
            .iter()
            .map(|(_, d, c)| (d.clone(), c.clone()))
            .collect();
        for (index, reason) in check_answers(&pairs) {
            problems.push(AnswerProblem {
                slot: judged[index].0,
                reason: ProblemReason::Weak(reason),
            });
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.slot);
            return Err(PortalError::Invalid(problems));
        }
        let slots: Vec<(QuestionRow, KeypadDigits)> = slots.into_iter().flatten().collect();

        // Hash outside any transaction: argon2 is slow by design.
        let mut hashed = Vec::with_capacity(slots.len());
        for (question, digits) in &slots {
            let hash = self.hasher().hash_answer(digits.clone()).await?;
            hashed.push((question.id.clone(), hash));
        }
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        for (question, _) in slots.iter().filter(|(q, _)| q.owner.is_some()) {
            if questions::get(&mut tx, &question.id).await?.is_none() {
                questions::upsert(&mut tx, question).await?;
            }
        }
        questions::replace_answers(&mut tx, &person.id, &hashed, now).await?;
        let ids: Vec<&str> = slots.iter().map(|(q, _)| q.id.as_str()).collect();
        let event = EventRouter::event(
            EventType::EnrolmentChanged,
            Some(&person.id),
            DOOR,
            json!({"door": DOOR, "questions": ids.len(), "ip": caller.ip.to_string()}),
            now,
        );
        self.events().emit(&mut tx, &event).await?;
        append_audit(
            &mut tx,
            DOOR,
            "portal_enrol",
            &person.id,
            "ok",
            json!({"questions": ids, "ip": caller.ip.to_string()}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(slots
            .into_iter()
            .map(|(q, d)| EnrolledAnswer {
                question: q.text,
                keypad: d.as_str().to_owned(),
            })
            .collect())
    }
}
