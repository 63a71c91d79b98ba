//! The factors on the session-bound doors (the HTTPS API and the IVR),
//! beside the eight functions: `UserFactorsGet` (what the person has and
//! what the policy still needs), `UserFactorChallenge` (ask for a factor:
//! a one-time challenge ID) and `UserFactorVerify` (the code keyed).
//!
//! A wrong or replayed code counts toward the intruder lockout exactly
//! like a wrong answer, with the same per-session attempts; a challenge
//! is answered once and expires like a question challenge.

use serde_json::json;
use touchtone_core::totp::DIGITS;
use touchtone_store::challenges::{self, Challenge};
use touchtone_store::{lockouts, session_factors};

use super::{Factor, FactorStatus, Operation};
use crate::api::{Rotated, Validation, check_id};
use crate::people::{Judged, active_person, is_locked};
use crate::session_gate::CallTx;
use crate::{Caller, Service, ServiceError};

/// What `UserFactorsGet` tells an IVR platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorsView {
    /// Factors the person has enrolled.
    pub enrolled: Vec<Factor>,
    /// Factors this session proved for them.
    pub proved: Vec<Factor>,
    /// Per operation, where the session stands.
    pub operations: Vec<(Operation, FactorStatus)>,
}

impl FactorsView {
    /// Factor names as the API writes them.
    pub fn names(factors: &[Factor]) -> Vec<String> {
        factors.iter().map(|f| f.as_str().to_owned()).collect()
    }

    /// Where the session stands, per operation, as the API writes it.
    pub fn operations_wire(&self) -> Vec<touchtone_api::factors::OperationFactors> {
        self.operations
            .iter()
            .map(|(op, status)| touchtone_api::factors::OperationFactors {
                operation: op.as_str().to_owned(),
                policy: status.policy.clone(),
                met: status.met(),
                missing: status.missing.iter().map(|g| Self::names(g)).collect(),
                unavailable: status.unavailable,
            })
            .collect()
    }
}

/// A factor asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorChallenge {
    pub challenge_id: String,
    pub factor: Factor,
    /// Digits the code has.
    pub digits: usize,
}

impl Service {
    /// `UserFactorsGet`.
    pub async fn factors_get(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
    ) -> Result<Rotated<FactorsView>, ServiceError> {
        check_id("user_id", user_id)?;
        let mut call = self.open_call(caller, token, "UserFactorsGet").await?;
        match self.factors_view(&mut call, user_id).await {
            Ok(view) => {
                let detail =
                    json!({"proved": view.proved.iter().map(|f| f.as_str()).collect::<Vec<_>>()});
                let session = self.commit_call(call, user_id, detail).await?;
                Ok(Rotated {
                    value: view,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, user_id, e).await),
        }
    }

    async fn factors_view(
        &self,
        call: &mut CallTx,
        user_id: &str,
    ) -> Result<FactorsView, ServiceError> {
        let person = active_person(call.conn(), user_id).await?;
        let session_id = call.session.id.clone();
        let verified = call.session.verified_person.clone();
        let mut operations = Vec::new();
        for operation in Operation::ALL {
            let status = self
                .factor_status(
                    call.conn(),
                    &session_id,
                    verified.as_deref(),
                    &person,
                    operation,
                )
                .await?;
            operations.push((operation, status));
        }
        let (enrolled, proved) = operations
            .first()
            .map(|(_, s)| (s.enrolled.clone(), s.proved.clone()))
            .unwrap_or_default();
        Ok(FactorsView {
            enrolled,
            proved,
            operations,
        })
    }

    /// `UserFactorChallenge`: asks for `factor` (today: `totp`, which the
    /// person must have set up).
    pub async fn factor_challenge(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        factor: &str,
    ) -> Result<Rotated<FactorChallenge>, ServiceError> {
        check_id("user_id", user_id)?;
        let factor = match Factor::parse(factor) {
            Some(Factor::Totp) => Factor::Totp,
            Some(Factor::Questions) => {
                return Err(ServiceError::BadRequest(
                    "questions are asked with UserQuestionsGet".into(),
                ));
            }
            None => {
                return Err(ServiceError::BadRequest(
                    "factor must be one of: totp".into(),
                ));
            }
        };
        let mut call = self.open_call(caller, token, "UserFactorChallenge").await?;
        match self.make_factor_challenge(&mut call, user_id, factor).await {
            Ok(view) => {
                let detail = json!({"challenge": view.challenge_id, "factor": factor.as_str()});
                let session = self.commit_call(call, user_id, detail).await?;
                Ok(Rotated {
                    value: view,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, user_id, e).await),
        }
    }

    async fn make_factor_challenge(
        &self,
        call: &mut CallTx,
        user_id: &str,
        factor: Factor,
    ) -> Result<FactorChallenge, ServiceError> {
        let now = call.now;
        let person = active_person(call.conn(), user_id).await?;
        if is_locked(call.conn(), &person, now).await? {
            return Err(ServiceError::UserLocked);
        }
        if !self
            .enrolled_factors(call.conn(), &person)
            .await?
            .contains(&factor)
        {
            return Err(ServiceError::FactorUnavailable(format!(
                "the user has not set up {}",
                factor.as_str()
            )));
        }
        let challenge = Challenge {
            id: uuid::Uuid::new_v4().to_string(),
            session_id: call.session.id.clone(),
            person_id: person.id.clone(),
            factor: factor.as_str().into(),
            question_ids: Vec::new(),
            created_at: now,
            expires_at: now + self.settings().challenge_ttl_ms,
            completed_at: None,
        };
        challenges::create(call.conn(), &challenge).await?;
        Ok(FactorChallenge {
            challenge_id: challenge.id,
            factor,
            digits: DIGITS,
        })
    }

    /// `UserFactorVerify`: the code keyed for a factor challenge.
    pub async fn factor_verify(
        &self,
        caller: &Caller,
        token: &str,
        challenge_id: &str,
        code: &str,
    ) -> Result<Rotated<Validation>, ServiceError> {
        check_id("challenge_id", challenge_id)?;
        if code.chars().count() > 64 {
            return Err(ServiceError::BadRequest(
                "code must be at most 64 characters".into(),
            ));
        }
        let mut call = self.open_call(caller, token, "UserFactorVerify").await?;
        let challenge = match challenges::get(call.conn(), challenge_id).await {
            Ok(Some(c)) if c.session_id == call.session.id && c.factor != "questions" => c,
            Ok(_) => {
                return Err(self
                    .fail_call(call, "", ServiceError::UnknownChallenge)
                    .await);
            }
            Err(e) => return Err(self.fail_call(call, "", e.into()).await),
        };
        match self.settle_factor(&mut call, &challenge, code).await {
            Ok(v) => {
                let detail = json!({"challenge": challenge.id, "factor": challenge.factor, "valid": v.valid, "attempts_left": v.attempts_left, "locked": v.locked});
                let session = self.commit_call(call, &challenge.person_id, detail).await?;
                Ok(Rotated { value: v, session })
            }
            Err(e) => Err(self.fail_call(call, &challenge.person_id, e).await),
        }
    }

    async fn settle_factor(
        &self,
        call: &mut CallTx,
        challenge: &Challenge,
        code: &str,
    ) -> Result<Validation, ServiceError> {
        let now = call.now;
        if challenge.completed_at.is_some() {
            return Err(ServiceError::ChallengeUsed);
        }
        if challenge.expires_at <= now {
            return Err(ServiceError::ChallengeExpired);
        }
        let factor = Factor::parse(&challenge.factor).ok_or_else(|| {
            ServiceError::Internal(format!("a challenge for {}", challenge.factor))
        })?;
        let person = active_person(call.conn(), &challenge.person_id).await?;
        // The code is looked at (and its step spent) only when the attempt
        // may count: not for a locked person or a session out of attempts.
        // The person's lock row is taken first, so two racing
        // verifications of one code serialise and the second finds the
        // step spent.
        lockouts::serialize_person(call.conn(), &person.id).await?;
        let session_id = call.session.id.clone();
        let may_try = !is_locked(call.conn(), &person, now).await?
            && self
                .attempts_left(call.conn(), &person, &session_id, now)
                .await?
                .0
                > 0;
        let right = may_try
            && match factor {
                Factor::Totp => {
                    self.accept_totp(call.conn(), &person.id, code.trim(), now)
                        .await?
                }
                Factor::Questions => false,
            };
        Ok(match self.judge_attempt(call, &person, right).await? {
            Judged::Locked => Validation {
                valid: false,
                attempts_left: 0,
                locked: true,
            },
            Judged::NoAttemptsLeft => Validation {
                valid: false,
                attempts_left: 0,
                locked: false,
            },
            Judged::Right { attempts_left } => {
                challenges::complete(call.conn(), &challenge.id, now).await?;
                session_factors::record(call.conn(), &session_id, &person.id, factor.as_str(), now)
                    .await?;
                Validation {
                    valid: true,
                    attempts_left,
                    locked: false,
                }
            }
            Judged::Wrong {
                attempts_left,
                locked,
            } => Validation {
                valid: false,
                attempts_left,
                locked,
            },
        })
    }
}
