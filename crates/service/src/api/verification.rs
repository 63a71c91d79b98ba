//! `UserQuestionsGet` and `UserAnswersValidate`: verifying a caller with
//! touch-tone answers, under the intruder lockout.
//!
//! Validation hashes every answer of the challenge (wrong, missing or
//! right) before it looks at the result, so the time taken does not tell
//! which one was wrong; the hashing happens before the session ID is spent
//! so that no database lock is held across it. Failures are counted in the
//! same transaction that spends the ID, and a racing replay of that ID
//! still has its failure counted.

use std::collections::HashSet;

use serde_json::json;
use touchtone_core::answer::normalise_answer;
use touchtone_core::phone::E164Number;
use touchtone_core::question::select_questions;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_core::session_token::SessionToken;
use touchtone_store::challenges::{self, Challenge};
use touchtone_store::{lockouts, people, questions, session_factors, sessions};

use super::Rotated;
use crate::factors::Factor;
use crate::people::{Attempt, Judged, active_person, is_locked, known_numbers};
use crate::session_gate::{CallTx, append_audit, commit};
use crate::{Caller, Service, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeQuestion {
    pub question_id: String,
    pub text: String,
    pub max_digits: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeView {
    pub challenge_id: String,
    pub questions: Vec<ChallengeQuestion>,
}

/// One keyed answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub question_id: String,
    pub answer: SecretString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation {
    pub valid: bool,
    /// Further attempts this session may make for this user.
    pub attempts_left: u32,
    /// The user is locked out (now, or by this failure).
    pub locked: bool,
}

impl Service {
    pub async fn questions_get(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
    ) -> Result<Rotated<ChallengeView>, ServiceError> {
        self.questions_get_for(caller, token, user_id, None).await
    }

    /// `UserQuestionsGet` for a call from `caller_number` (as the caller
    /// ID arrived). When the caller-ID check is configured, a number that is
    /// not one of the person's registered numbers (or no number) costs one
    /// more question. Whether it matched is audited, never returned: the
    /// answer would tell a stranger whose phone a number is.
    pub async fn questions_get_for(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<Rotated<ChallengeView>, ServiceError> {
        super::check_id("user_id", user_id)?;
        if let Some(number) = caller_number
            && (number.chars().count() > 64 || number.chars().any(char::is_control))
        {
            return Err(ServiceError::BadRequest(
                "caller_number must be at most 64 printable characters".into(),
            ));
        }
        let mut call = self.open_call(caller, token, "UserQuestionsGet").await?;
        match self.make_challenge(&mut call, user_id, caller_number).await {
            Ok((view, caller_id)) => {
                let ids: Vec<&str> = view
                    .questions
                    .iter()
                    .map(|q| q.question_id.as_str())
                    .collect();
                let detail = json!({"challenge": view.challenge_id, "questions": ids, "caller_id": caller_id});
                let session = self.commit_call(call, user_id, detail).await?;
                Ok(Rotated {
                    value: view,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, user_id, e).await),
        }
    }

    async fn make_challenge(
        &self,
        call: &mut CallTx,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<(ChallengeView, &'static str), ServiceError> {
        let now = call.now;
        let person = active_person(call.conn(), user_id).await?;
        if is_locked(call.conn(), &person, now).await? {
            return Err(ServiceError::UserLocked);
        }
        let enrolled = questions::enrolled(call.conn(), &person.id).await?;
        let policy = &self.settings().enrolment;
        if enrolled.is_empty() || (policy.required && enrolled.len() < policy.questions_required) {
            return Err(ServiceError::NotEnrolled);
        }
        if policy.reconfirm_ms > 0
            && questions::enrolled_at(call.conn(), &person.id)
                .await?
                .iter()
                .any(|(_, at)| now - at > policy.reconfirm_ms)
        {
            return Err(ServiceError::ReconfirmRequired);
        }
        let numbers = known_numbers(call.conn(), &person).await?;
        let caller_id = self.caller_id_outcome(&numbers, caller_number);
        let extra = usize::from(caller_id == "unmatched");
        let chosen = select_questions(
            &enrolled,
            self.settings().questions_per_challenge + extra,
            &mut rand::rng(),
        );
        let challenge = Challenge {
            id: uuid::Uuid::new_v4().to_string(),
            session_id: call.session.id.clone(),
            person_id: person.id.clone(),
            factor: "questions".into(),
            question_ids: chosen.iter().map(|q| q.id.clone()).collect(),
            created_at: now,
            expires_at: now + self.settings().challenge_ttl_ms,
            completed_at: None,
        };
        challenges::create(call.conn(), &challenge).await?;
        let view = ChallengeView {
            challenge_id: challenge.id,
            questions: chosen
                .into_iter()
                .map(|q| ChallengeQuestion {
                    question_id: q.id,
                    text: q.text,
                    max_digits: q.max_digits,
                })
                .collect(),
        };
        Ok((view, caller_id))
    }

    /// `"not_checked"`, `"matched"` or `"unmatched"` (a missing or
    /// unparsable number does not match).
    fn caller_id_outcome(&self, numbers: &[String], caller_number: Option<&str>) -> &'static str {
        let Some(check) = self.settings().caller_id_check else {
            return "not_checked";
        };
        let normalise = |n: &str| E164Number::parse(n, check.default_region).ok();
        let Some(calling) = caller_number.and_then(normalise) else {
            return "unmatched";
        };
        if numbers
            .iter()
            .filter_map(|n| normalise(n))
            .any(|n| n == calling)
        {
            "matched"
        } else {
            "unmatched"
        }
    }

    pub async fn answers_validate(
        &self,
        caller: &Caller,
        token: &str,
        challenge_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Rotated<Validation>, ServiceError> {
        super::check_id("challenge_id", challenge_id)?;
        let mut seen = HashSet::new();
        for a in &answers {
            super::check_id("question_id", &a.question_id)?;
            if !seen.insert(a.question_id.as_str()) {
                return Err(ServiceError::BadRequest(format!(
                    "question {} is answered twice",
                    a.question_id
                )));
            }
        }

        // Look before spending the session ID: the hashing below is slow
        // and must not run inside a write transaction.
        let now = self.now();
        let parsed = SessionToken::parse(token).ok();
        let mut conn = self.store().acquire().await?;
        let session = match &parsed {
            Some(t) => {
                sessions::peek(
                    &mut conn,
                    &t.digest().0,
                    now,
                    now - self.settings().session_idle_ms,
                )
                .await?
            }
            None => None,
        };
        let Some(session) = session else {
            drop(conn);
            // Let the gate classify the dead token (and revoke on replay).
            let call = self.open_call(caller, token, "UserAnswersValidate").await?;
            return Err(self.fail_call(call, "", ServiceError::InvalidSession).await);
        };
        let challenge = challenges::get(&mut conn, challenge_id)
            .await?
            .filter(|c| c.session_id == session.id && c.factor == Factor::Questions.as_str());
        let hashes = match &challenge {
            Some(c) => questions::answer_hashes(&mut conn, &c.person_id).await?,
            None => Vec::new(),
        };
        drop(conn);

        let pairs = match &challenge {
            Some(c) => {
                let asked: HashSet<&str> = c.question_ids.iter().map(String::as_str).collect();
                if let Some(extra) = answers
                    .iter()
                    .find(|a| !asked.contains(a.question_id.as_str()))
                {
                    let error = ServiceError::AnswersMismatch(format!(
                        "question {} was not asked in this challenge",
                        extra.question_id
                    ));
                    let call = self.open_call(caller, token, "UserAnswersValidate").await?;
                    return Err(self.fail_call(call, &c.person_id, error).await);
                }
                c.question_ids
                    .iter()
                    .map(|qid| {
                        let hash = hashes
                            .iter()
                            .find(|(q, _)| q == qid)
                            .map(|(_, h)| h.clone());
                        let given = answers
                            .iter()
                            .find(|a| &a.question_id == qid)
                            .and_then(|a| normalise_answer(a.answer.expose_secret()).ok());
                        (hash, given)
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let all_right = !pairs.is_empty() && self.hasher().verify_answers(pairs).await?;

        let mut call = match self.open_call(caller, token, "UserAnswersValidate").await {
            Ok(call) => call,
            Err(e) => {
                // The ID was spent by a racing request; the guess still counts.
                if let (Some(c), false) = (&challenge, all_right) {
                    self.count_failure_alone(caller, &session.api_user, c)
                        .await?;
                }
                return Err(e);
            }
        };
        let Some(challenge) = challenge else {
            return Err(self
                .fail_call(call, "", ServiceError::UnknownChallenge)
                .await);
        };
        match self
            .settle_validation(&mut call, &challenge, all_right)
            .await
        {
            Ok(validation) => {
                let detail = json!({"challenge": challenge.id, "valid": validation.valid, "attempts_left": validation.attempts_left, "locked": validation.locked});
                let session = self.commit_call(call, &challenge.person_id, detail).await?;
                Ok(Rotated {
                    value: validation,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, &challenge.person_id, e).await),
        }
    }

    /// Applies the outcome of a validation inside the call's transaction.
    async fn settle_validation(
        &self,
        call: &mut CallTx,
        challenge: &Challenge,
        all_right: bool,
    ) -> Result<Validation, ServiceError> {
        let now = call.now;
        if challenge.completed_at.is_some() {
            return Err(ServiceError::ChallengeUsed);
        }
        if challenge.expires_at <= now {
            return Err(ServiceError::ChallengeExpired);
        }
        let person = active_person(call.conn(), &challenge.person_id).await?;
        match self.judge_attempt(call, &person, all_right).await? {
            Judged::Locked => Ok(Validation {
                valid: false,
                attempts_left: 0,
                locked: true,
            }),
            // This session has used its attempts: the answers are not even
            // considered, right or wrong.
            Judged::NoAttemptsLeft => Ok(Validation {
                valid: false,
                attempts_left: 0,
                locked: false,
            }),
            Judged::Right { attempts_left } => {
                let session_id = call.session.id.clone();
                challenges::complete(call.conn(), &challenge.id, now).await?;
                sessions::set_verified(call.conn(), &session_id, &person.id, now).await?;
                session_factors::record(
                    call.conn(),
                    &session_id,
                    &person.id,
                    Factor::Questions.as_str(),
                    now,
                )
                .await?;
                Ok(Validation {
                    valid: true,
                    attempts_left,
                    locked: false,
                })
            }
            Judged::Wrong {
                attempts_left,
                locked,
            } => Ok(Validation {
                valid: false,
                attempts_left,
                locked,
            }),
        }
    }

    async fn count_failure_alone(
        &self,
        caller: &Caller,
        actor: &str,
        challenge: &Challenge,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        lockouts::serialize_person(&mut tx, &challenge.person_id).await?;
        if let Some(person) = people::get(&mut tx, &challenge.person_id).await? {
            let attempt = Attempt {
                session_id: &challenge.session_id,
                door: caller.door.as_str(),
                caller_number: None,
            };
            self.record_failure(&mut tx, &person, &attempt, actor, now)
                .await?;
            append_audit(
                &mut tx,
                actor,
                "UserAnswersValidate",
                &person.id,
                "failure_counted_after_replay",
                json!({}),
                now,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(())
    }
}
