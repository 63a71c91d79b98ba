//! Enrolling by phone with a one-time PIN, for people without a computer:
//! the helpdesk (or the portal) issues the PIN; the caller keys their ID,
//! then the PIN, then answers questions of the pool one by one; the set
//! replaces their answers. Session-bound like the eight functions
//! (`UserEnrolmentStart`, `UserEnrolmentCheck`, `UserEnrolmentSubmit` on
//! the HTTPS door).
//!
//! A wrong PIN counts toward the intruder lockout like a wrong answer, and
//! no PIN at all is answered exactly like a wrong one. A right PIN opens an
//! enrolment bound to the session; answers are judged by the same rules as
//! the portal's, and the PIN is spent when the answers are stored.

use std::collections::HashSet;

use serde_json::json;
use touchtone_core::answer::normalise_answer;
use touchtone_core::answer_strength::{WeakAnswer, check_answer, check_answers};
use touchtone_core::event::EventType;
use touchtone_core::keypad::KeypadDigits;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_core::session_token::SessionToken;
use touchtone_store::questions::{self, Question as QuestionRow};
use touchtone_store::{enrolment_pins, people, sessions};

use super::Rotated;
use super::verification::Answer;
use crate::enrolment::rules::Judge;
use crate::events::EventRouter;
use crate::people::{Judged, active_person, is_locked};
use crate::session_gate::CallTx;
use crate::{Caller, Service, ServiceError};

/// How long an opened enrolment can be completed.
const ENROLMENT_MS: i64 = 15 * 60 * 1000;
/// Digits of a PIN.
pub const PIN_DIGITS: usize = 8;

/// A question offered to enrol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedQuestion {
    pub question_id: String,
    pub text: String,
    pub min_digits: i64,
    pub max_digits: i64,
}

/// What a PIN opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentOffer {
    pub enrolment_id: String,
    /// Answers to give.
    pub required: usize,
    pub questions: Vec<OfferedQuestion>,
}

/// The outcome of keying a PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentStart {
    pub accepted: bool,
    /// Further PINs this session may try for the person.
    pub attempts_left: u32,
    pub locked: bool,
    pub offer: Option<EnrolmentOffer>,
}

impl Service {
    /// `UserEnrolmentStart`: the caller's PIN for `user_id`.
    pub async fn enrolment_start(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        pin: SecretString,
    ) -> Result<Rotated<EnrolmentStart>, ServiceError> {
        super::check_id("user_id", user_id)?;
        // The PIN's hash is checked before the session ID is spent, so no
        // write lock is held across argon2 (as answers are checked).
        let (hash, person) = {
            let mut conn = self.store().acquire().await?;
            if self.peek_session(&mut conn, token).await?.is_none() {
                drop(conn);
                return Err(self.dead_session(caller, token, "UserEnrolmentStart").await);
            }
            let person = people::get(&mut conn, user_id)
                .await?
                .filter(|p| !p.disabled);
            let pin_row = match &person {
                Some(p) => enrolment_pins::get(&mut conn, &p.id).await?,
                None => None,
            };
            let now = self.now();
            let live = pin_row.filter(|p| p.used_at.is_none() && p.expires_at > now);
            (live.map(|p| p.pin_hash), person)
        };
        let digits = KeypadDigits::parse(pin.expose_secret()).ok();
        let right = self.hasher().verify_answers(vec![(hash, digits)]).await?;

        let mut call = self.open_call(caller, token, "UserEnrolmentStart").await?;
        let Some(person) = person else {
            return Err(self
                .fail_call(call, user_id, ServiceError::UnknownUser)
                .await);
        };
        match self.settle_pin(&mut call, &person, right).await {
            Ok(start) => {
                let detail = json!({"accepted": start.accepted, "attempts_left": start.attempts_left, "locked": start.locked});
                let session = self.commit_call(call, &person.id, detail).await?;
                Ok(Rotated {
                    value: start,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, &person.id, e).await),
        }
    }

    async fn settle_pin(
        &self,
        call: &mut CallTx,
        person: &touchtone_store::people::Person,
        right: bool,
    ) -> Result<EnrolmentStart, ServiceError> {
        let now = call.now;
        let left = match self.judge_attempt(call, person, right).await? {
            Judged::Locked => return Err(ServiceError::UserLocked),
            Judged::NoAttemptsLeft => {
                return Ok(EnrolmentStart {
                    accepted: false,
                    attempts_left: 0,
                    locked: false,
                    offer: None,
                });
            }
            Judged::Wrong {
                attempts_left,
                locked,
            } => {
                return Ok(EnrolmentStart {
                    accepted: false,
                    attempts_left,
                    locked,
                    offer: None,
                });
            }
            Judged::Right { attempts_left } => attempts_left,
        };
        let session_id = call.session.id.clone();
        let id = uuid::Uuid::new_v4().to_string();
        enrolment_pins::open_enrolment(
            call.conn(),
            &id,
            &session_id,
            &person.id,
            now,
            now + ENROLMENT_MS,
        )
        .await?;
        let questions = questions::list(call.conn())
            .await?
            .into_iter()
            .map(|q| OfferedQuestion {
                question_id: q.id,
                text: q.text,
                min_digits: q.min_digits,
                max_digits: q.max_digits,
            })
            .collect();
        Ok(EnrolmentStart {
            accepted: true,
            attempts_left: left,
            locked: false,
            offer: Some(EnrolmentOffer {
                enrolment_id: id,
                required: self.settings().enrolment.questions_required,
                questions,
            }),
        })
    }

    /// `UserEnrolmentCheck`: whether one answer would be accepted beside
    /// the `earlier` ones the caller chose in this enrolment; `None` when
    /// it would, else why not. Changes nothing but the session ID.
    pub async fn enrolment_check(
        &self,
        caller: &Caller,
        token: &str,
        enrolment_id: &str,
        question_id: &str,
        answer: SecretString,
        earlier: &[SecretString],
    ) -> Result<Rotated<Option<WeakAnswer>>, ServiceError> {
        super::check_id("enrolment_id", enrolment_id)?;
        super::check_id("question_id", question_id)?;
        let mut call = self.open_call(caller, token, "UserEnrolmentCheck").await?;
        match self
            .judge_one(&mut call, enrolment_id, question_id, &answer, earlier)
            .await
        {
            Ok((person_id, verdict)) => {
                let detail = json!({"enrolment": enrolment_id, "question": question_id, "weak": verdict.as_ref().map(WeakAnswer::code)});
                let session = self.commit_call(call, &person_id, detail).await?;
                Ok(Rotated {
                    value: verdict,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, "", e).await),
        }
    }

    async fn judge_one(
        &self,
        call: &mut CallTx,
        enrolment_id: &str,
        question_id: &str,
        answer: &SecretString,
        earlier: &[SecretString],
    ) -> Result<(String, Option<WeakAnswer>), ServiceError> {
        let session_id = call.session.id.clone();
        let now = call.now;
        let person_id =
            enrolment_pins::open_enrolment_person(call.conn(), enrolment_id, &session_id, now)
                .await?
                .ok_or(ServiceError::UnknownEnrolment)?;
        let question = pool_question(call, question_id).await?;
        let digits = normalise_answer(answer.expose_secret())
            .map_err(|_| ServiceError::WeakAnswer("the answer has no digits".into()))?;
        let judge =
            Judge::for_person(call.conn(), &person_id, &self.settings().enrolment, now).await?;
        let verdict = match check_answer(&digits, &judge.context(&question)) {
            Err(weak) => Some(weak),
            Ok(())
                if earlier.iter().any(|e| {
                    normalise_answer(e.expose_secret()).ok().as_ref() == Some(&digits)
                }) =>
            {
                Some(WeakAnswer::SameAsAnother)
            }
            Ok(()) => None,
        };
        Ok((person_id, verdict))
    }

    /// `UserEnrolmentSubmit`: stores `answers` as the person's, spends the
    /// PIN and closes the enrolment. Returns how many were enrolled.
    pub async fn enrolment_submit(
        &self,
        caller: &Caller,
        token: &str,
        enrolment_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Rotated<usize>, ServiceError> {
        super::check_id("enrolment_id", enrolment_id)?;
        let required = self.settings().enrolment.questions_required;
        // Judge and hash before the session ID is spent (argon2 must not
        // run inside the write transaction).
        let (person_id, judged) = {
            let mut conn = self.store().acquire().await?;
            let Some(session) = self.peek_session(&mut conn, token).await? else {
                drop(conn);
                return Err(self
                    .dead_session(caller, token, "UserEnrolmentSubmit")
                    .await);
            };
            let now = self.now();
            let person_id =
                enrolment_pins::open_enrolment_person(&mut conn, enrolment_id, &session.id, now)
                    .await?
                    .ok_or(ServiceError::UnknownEnrolment)?;
            let pool = questions::list(&mut conn).await?;
            let judge =
                Judge::for_person(&mut conn, &person_id, &self.settings().enrolment, now).await?;
            let mut seen = HashSet::new();
            let mut judged: Vec<(QuestionRow, KeypadDigits)> = Vec::new();
            for a in &answers {
                let question = pool.iter().find(|q| q.id == a.question_id).ok_or_else(|| {
                    ServiceError::BadRequest(format!("no question {} to enrol", a.question_id))
                })?;
                if !seen.insert(a.question_id.as_str()) {
                    return Err(ServiceError::BadRequest(format!(
                        "question {} is answered twice",
                        a.question_id
                    )));
                }
                let digits = normalise_answer(a.answer.expose_secret()).map_err(|_| {
                    ServiceError::WeakAnswer(format!(
                        "the answer to {} has no digits",
                        a.question_id
                    ))
                })?;
                judged.push((question.clone(), digits));
            }
            if judged.len() < required {
                return Err(ServiceError::BadRequest(format!(
                    "enrol at least {required} answers"
                )));
            }
            let pairs: Vec<_> = judged
                .iter()
                .map(|(q, d)| (d.clone(), judge.context(q)))
                .collect();
            if let Some((index, weak)) = check_answers(&pairs).into_iter().next() {
                return Err(ServiceError::WeakAnswer(format!(
                    "the answer to {}: {weak}",
                    judged[index].0.id
                )));
            }
            (person_id, judged)
        };
        let mut hashed = Vec::with_capacity(judged.len());
        for (question, digits) in &judged {
            hashed.push((
                question.id.clone(),
                self.hasher().hash_answer(digits.clone()).await?,
            ));
        }

        let mut call = self.open_call(caller, token, "UserEnrolmentSubmit").await?;
        let stored = async {
            let now = call.now;
            let session_id = call.session.id.clone();
            let owner =
                enrolment_pins::open_enrolment_person(call.conn(), enrolment_id, &session_id, now)
                    .await?;
            if owner.as_deref() != Some(person_id.as_str()) {
                return Err(ServiceError::UnknownEnrolment);
            }
            let person = active_person(call.conn(), &person_id).await?;
            if is_locked(call.conn(), &person, now).await? {
                return Err(ServiceError::UserLocked);
            }
            questions::replace_answers(call.conn(), &person_id, &hashed, now).await?;
            enrolment_pins::spend(call.conn(), &person_id, now).await?;
            enrolment_pins::complete_enrolment(call.conn(), enrolment_id, now).await?;
            let mut detail = json!({"door": call.caller.door.as_str(), "questions": hashed.len()});
            if let Some(number) = &call.session.calling_number {
                detail["caller_number"] = number.clone().into();
            }
            let actor = call.session.api_user.clone();
            let event = EventRouter::event(
                EventType::EnrolmentChanged,
                Some(&person_id),
                &actor,
                detail,
                now,
            );
            self.events().emit(call.conn(), &event).await?;
            Ok(())
        }
        .await;
        match stored {
            Ok(()) => {
                let detail = json!({"enrolment": enrolment_id, "questions": hashed.len()});
                let session = self.commit_call(call, &person_id, detail).await?;
                Ok(Rotated {
                    value: hashed.len(),
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, &person_id, e).await),
        }
    }

    /// The live session of `token`, without spending it.
    async fn peek_session(
        &self,
        conn: &mut touchtone_store::AnyConnection,
        token: &str,
    ) -> Result<Option<sessions::Session>, ServiceError> {
        let now = self.now();
        match SessionToken::parse(token) {
            Ok(t) => Ok(sessions::peek(
                conn,
                &t.digest().0,
                now,
                now - self.settings().session_idle_ms,
            )
            .await?),
            Err(_) => Ok(None),
        }
    }

    /// The error for a token that is not live, as the gate classifies it
    /// (a replay revokes the session).
    async fn dead_session(
        &self,
        caller: &Caller,
        token: &str,
        action: &'static str,
    ) -> ServiceError {
        match self.open_call(caller, token, action).await {
            Ok(call) => self.fail_call(call, "", ServiceError::InvalidSession).await,
            Err(e) => e,
        }
    }
}

/// A question of the pool, by ID.
async fn pool_question(call: &mut CallTx, question_id: &str) -> Result<QuestionRow, ServiceError> {
    match questions::get(call.conn(), question_id).await? {
        Some(q) if q.owner.is_none() => Ok(q),
        _ => Err(ServiceError::BadRequest(format!(
            "no question {question_id} to enrol"
        ))),
    }
}
