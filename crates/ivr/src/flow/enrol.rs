//! Enrolling by phone, for a caller who is not enrolled yet:
//!
//! ```text
//! "you are not enrolled" → "key your enrolment PIN, or hold"
//!   → nothing keyed: "you can also enrol on the portal" → helpdesk
//!   → wrong PIN: told so, again while attempts last (each counts toward
//!     the lockout) → locked out, or the helpdesk
//!   → right PIN: each question of the pool, "1 to enrol, 2 to skip"
//!     → the answer keyed twice; different: again; too easy: again
//!     → enough enrolled: the questions read back, "you are enrolled", bye
//!     → the pool gone through twice without enough: the helpdesk
//! ```
//!
//! Whether an answer is good enough is the service's rule
//! (`UserEnrolmentCheck`), asked before the caller moves on, so a caller
//! is never told at the end that an answer long forgotten was refused.

use touchtone_core::secret::SecretString;
use touchtone_service::api::{Answer, EnrolmentOffer, OfferedQuestion, PIN_DIGITS};

use super::{Choice, End, Run, Stop, answer_keys, question_say};
use crate::say::Say;

/// Tries at one question (mismatched or refused answers) before it is
/// skipped.
const ANSWER_TRIES: u32 = 3;
/// Times the pool is offered before the caller is sent to the helpdesk.
const POOL_ROUNDS: u32 = 2;

impl Run<'_> {
    /// A caller the service says is not enrolled.
    pub(super) async fn not_enrolled(&mut self, user_id: &str) -> Result<End, Stop> {
        self.line.say(&[Say::Prompt("not-enrolled")]).await?;
        match self.enrolment_pin(user_id).await? {
            Ok(offer) => self.enrol(offer).await,
            Err(end) => Ok(end),
        }
    }

    /// Asks for the enrolment PIN until one is right: `Ok(offer)`, or how
    /// the call ended.
    async fn enrolment_pin(&mut self, user_id: &str) -> Result<Result<EnrolmentOffer, End>, Stop> {
        let mut prompt = vec![Say::Prompt("enrolment-pin-offer")];
        loop {
            let got = self
                .line
                .ask(&prompt, &self.spec(PIN_DIGITS + 1, Some('#')))
                .await?;
            let digits: String = got.digits.chars().filter(char::is_ascii_digit).collect();
            if digits.is_empty() {
                self.line.say(&[Say::Prompt("enrol-portal-hint")]).await?;
                return Ok(Err(self.give_up(End::NotEnrolled).await?));
            }
            let start = match self
                .session
                .enrolment_start(user_id, SecretString::from(digits))
                .await
            {
                Ok(start) => start,
                Err(e) if e.is(touchtone_api::ErrorCode::UserLocked) => {
                    return Ok(Err(self.locked_out().await?));
                }
                Err(e) => return Err(e.into()),
            };
            if let (true, Some(offer)) = (start.accepted, start.offer) {
                return Ok(Ok(offer));
            }
            self.line.say(&[Say::Prompt("enrolment-pin-wrong")]).await?;
            if start.locked {
                return Ok(Err(self.locked_out().await?));
            }
            if start.attempts_left == 0 {
                return Ok(Err(self.give_up(End::NotEnrolled).await?));
            }
            prompt = vec![Say::Prompt("try-again"), Say::Prompt("enrolment-pin-offer")];
        }
    }

    /// Offers the pool's questions until enough are enrolled, then stores
    /// them.
    async fn enrol(&mut self, offer: EnrolmentOffer) -> Result<End, Stop> {
        let required = offer.required.max(1);
        let mut chosen: Vec<(OfferedQuestion, SecretString)> = Vec::new();
        'rounds: for round in 0..POOL_ROUNDS {
            if round > 0 {
                self.line.say(&[Say::Prompt("enrol-not-enough")]).await?;
            }
            for question in &offer.questions {
                if chosen.len() >= required {
                    break 'rounds;
                }
                if chosen
                    .iter()
                    .any(|(q, _)| q.question_id == question.question_id)
                {
                    continue;
                }
                let prompt = [
                    question_say(&question.question_id, &question.text),
                    Say::Pause(300),
                    Say::Prompt("enrol-question-offer"),
                ];
                match self.menu(&prompt, &['1', '2']).await? {
                    Choice::Key('1') => {
                        let earlier = chosen.iter().map(|(_, a)| a.clone()).collect();
                        if let Some(answer) = self
                            .enrol_answer(&offer.enrolment_id, question, earlier)
                            .await?
                        {
                            chosen.push((question.clone(), answer));
                        }
                    }
                    Choice::Key(_) => {}
                    Choice::Helpdesk => return self.transfer().await,
                    Choice::None => return self.give_up(End::NotEnrolled).await,
                }
            }
            if chosen.len() >= required {
                break;
            }
        }
        if chosen.len() < required {
            self.line.say(&[Say::Prompt("enrol-not-enough")]).await?;
            return self.give_up(End::NotEnrolled).await;
        }
        let mut summary = vec![Say::Prompt("enrol-summary")];
        for (question, _) in &chosen {
            summary.push(Say::Pause(300));
            summary.push(question_say(&question.question_id, &question.text));
        }
        let answers = chosen
            .into_iter()
            .map(|(question, answer)| Answer {
                question_id: question.question_id,
                answer,
            })
            .collect();
        let enrolled = self
            .session
            .enrolment_submit(&offer.enrolment_id, answers)
            .await?;
        self.outcome.enrolled = Some(enrolled);
        summary.push(Say::Pause(500));
        summary.push(Say::Prompt("enrol-done"));
        summary.push(Say::Prompt("goodbye"));
        self.line.say(&summary).await?;
        Ok(End::Enrolled)
    }

    /// One answer, keyed twice and accepted by the service; `None` when
    /// the caller did not manage it in [`ANSWER_TRIES`].
    async fn enrol_answer(
        &mut self,
        enrolment_id: &str,
        question: &OfferedQuestion,
        earlier: Vec<SecretString>,
    ) -> Result<Option<SecretString>, Stop> {
        let spec = self.spec(answer_keys(question.max_digits), Some('#'));
        for _ in 0..ANSWER_TRIES {
            let first = self
                .line
                .ask(&[Say::Prompt("enrol-key-answer")], &spec)
                .await?;
            let first: String = first.digits.chars().filter(char::is_ascii_digit).collect();
            if first.is_empty() {
                continue;
            }
            let again = self
                .line
                .ask(&[Say::Prompt("enrol-key-again")], &spec)
                .await?;
            let again: String = again.digits.chars().filter(char::is_ascii_digit).collect();
            // The caller's own keys, compared to each other only: no
            // secret of the service is involved.
            if first != again {
                self.line.say(&[Say::Prompt("enrol-mismatch")]).await?;
                continue;
            }
            let answer = SecretString::from(first);
            let weak = self
                .session
                .enrolment_check(
                    enrolment_id,
                    &question.question_id,
                    answer.clone(),
                    earlier.clone(),
                )
                .await?;
            match weak {
                None => return Ok(Some(answer)),
                Some(reason) => {
                    tracing::debug!(%reason, question = %question.question_id, "answer refused");
                    self.line.say(&[Say::Prompt("enrol-too-easy")]).await?;
                }
            }
        }
        Ok(None)
    }

    /// The caller is locked out: told politely, goodbye.
    pub(super) async fn locked_out(&mut self) -> Result<End, Stop> {
        self.line
            .say(&[Say::Prompt("locked-out"), Say::Prompt("goodbye")])
            .await?;
        Ok(End::LockedOut)
    }
}
