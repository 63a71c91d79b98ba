//! The service in this process, through the IVR's door.

use async_trait::async_trait;
use std::time::Duration;
use tokio::time::Instant;
use touchtone_core::secret::SecretString;
use touchtone_core::session_token::SessionToken;
use touchtone_service::api::{
    AccountResult, Answer, ChallengeView, EnrolmentStart, RandomPassword, Rotated, UserMatch,
    Validation,
};
use touchtone_service::{Caller, Door, Service, ServiceError};

use super::{Backend, BackendError, BackendSession, CallContext, FactorsNeeded};
use touchtone_core::secret::ExposeSecret;
use touchtone_service::factors::api::FactorsView;

/// How long a step is tried again while the store is busy or out of
/// connections (a flood, a slow disk): a failed step rolled back, so
/// trying it again is safe, and the caller would rather wait a few
/// seconds than hear an apology. Past this the flow apologises.
const BUSY_RETRY_FOR: Duration = Duration::from_secs(20);
const BUSY_FIRST_PAUSE: Duration = Duration::from_millis(200);
const BUSY_LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// Runs `$call` (which may use `$token`, the newest session ID) and
/// rotates the ID; a step the store could not serve is tried again, with
/// pauses doubling, for up to [`BUSY_RETRY_FOR`].
macro_rules! step {
    ($s:ident, |$token:ident| $call:expr) => {{
        let mut retry = Busy::new();
        loop {
            let $token = $s.token().await?;
            let r = $call.await;
            if matches!(r, Err(ServiceError::Unavailable(_))) && retry.wait().await {
                continue;
            }
            break $s.rotate(r);
        }
    }};
}

/// The pauses of one step's retries.
struct Busy {
    deadline: Instant,
    pause: Duration,
}

impl Busy {
    fn new() -> Busy {
        Busy {
            deadline: Instant::now() + BUSY_RETRY_FOR,
            pause: BUSY_FIRST_PAUSE,
        }
    }

    /// Waits before the next try; false when the time is up.
    async fn wait(&mut self) -> bool {
        if Instant::now() + self.pause > self.deadline {
            return false;
        }
        tracing::warn!(
            pause_ms = self.pause.as_millis() as u64,
            "the store is busy; trying the step again"
        );
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(BUSY_LONGEST_PAUSE);
        true
    }
}

pub struct InProcess {
    service: Service,
}

impl InProcess {
    pub fn new(service: Service) -> InProcess {
        InProcess { service }
    }
}

#[async_trait]
impl Backend for InProcess {
    async fn open(&self, call: &CallContext) -> Result<Box<dyn BackendSession>, BackendError> {
        let caller = Caller {
            ip: call.peer_ip,
            door: Door::Ivr,
        };
        // The session is opened with the first thing the caller asks for
        // (after they key something), not at the answer: a call that
        // keys nothing costs no database write, so silent or flooding
        // calls cannot fill the store.
        Ok(Box::new(InProcessSession {
            service: self.service.clone(),
            caller,
            token: None,
            opening: Some((call.call_id.clone(), call.caller_number.clone())),
        }))
    }
}

struct InProcessSession {
    service: Service,
    caller: Caller,
    /// `None` before it is opened, and once it is closed or was revoked.
    token: Option<SessionToken>,
    /// The call's ID and caller number, until the session is opened.
    opening: Option<(String, Option<String>)>,
}

impl InProcessSession {
    /// The newest session ID, opening the session on first use.
    async fn token(&mut self) -> Result<String, BackendError> {
        if let Some((call_id, caller_number)) = self.opening.take() {
            let mut retry = Busy::new();
            let token = loop {
                let r = self
                    .service
                    .open_ivr_session(&self.caller, &call_id, caller_number.as_deref())
                    .await;
                if matches!(r, Err(ServiceError::Unavailable(_))) && retry.wait().await {
                    continue;
                }
                break r?;
            };
            self.token = Some(token);
        }
        self.token
            .as_ref()
            .map(|t| t.reveal().to_owned())
            .ok_or_else(|| ServiceError::InvalidSession.into())
    }

    /// Keeps the next ID of a successful call. A failed call leaves the
    /// presented ID valid (the service rolled back), except when the
    /// session itself has ended.
    fn rotate<T>(&mut self, result: Result<Rotated<T>, ServiceError>) -> Result<T, BackendError> {
        match result {
            Ok(rotated) => {
                self.token = Some(rotated.session);
                Ok(rotated.value)
            }
            Err(e) => {
                let e = BackendError::from(e);
                if e.ends_session() {
                    self.token = None;
                }
                Err(e)
            }
        }
    }
}

#[async_trait]
impl BackendSession for InProcessSession {
    async fn find_users(&mut self, keypad_id: &str) -> Result<Vec<UserMatch>, BackendError> {
        step!(self, |token| self.service.ivr_list(
            &self.caller,
            &token,
            keypad_id
        ))
    }

    async fn questions(
        &mut self,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<ChallengeView, BackendError> {
        step!(self, |token| self.service.questions_get_for(
            &self.caller,
            &token,
            user_id,
            caller_number
        ))
    }

    async fn validate(
        &mut self,
        challenge_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Validation, BackendError> {
        step!(self, |token| self.service.answers_validate(
            &self.caller,
            &token,
            challenge_id,
            answers.clone()
        ))
    }

    async fn factors(&mut self, user_id: &str) -> Result<FactorsNeeded, BackendError> {
        let view = step!(self, |token| self.service.factors_get(
            &self.caller,
            &token,
            user_id
        ))?;
        Ok(FactorsNeeded {
            enrolled: FactorsView::names(&view.enrolled),
            operations: view.operations_wire(),
        })
    }

    async fn factor_challenge(
        &mut self,
        user_id: &str,
        factor: &str,
    ) -> Result<String, BackendError> {
        let r = step!(self, |token| self.service.factor_challenge(
            &self.caller,
            &token,
            user_id,
            factor
        ));
        Ok(r?.challenge_id)
    }

    async fn factor_verify(
        &mut self,
        challenge_id: &str,
        code: SecretString,
    ) -> Result<Validation, BackendError> {
        step!(self, |token| self.service.factor_verify(
            &self.caller,
            &token,
            challenge_id,
            code.expose_secret()
        ))
    }

    async fn random_password(&mut self, user_id: &str) -> Result<RandomPassword, BackendError> {
        step!(self, |token| self.service.password_random_get(
            &self.caller,
            &token,
            user_id
        ))
    }

    async fn sync_password(
        &mut self,
        user_id: &str,
        password: SecretString,
    ) -> Result<Vec<AccountResult>, BackendError> {
        step!(self, |token| self.service.password_sync(
            &self.caller,
            &token,
            user_id,
            password.clone(),
            None
        ))
    }

    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, BackendError> {
        step!(self, |token| self.service.accounts_unlock(
            &self.caller,
            &token,
            user_id,
            None
        ))
    }

    async fn enrolment_start(
        &mut self,
        user_id: &str,
        pin: SecretString,
    ) -> Result<EnrolmentStart, BackendError> {
        step!(self, |token| self.service.enrolment_start(
            &self.caller,
            &token,
            user_id,
            pin.clone()
        ))
    }

    async fn enrolment_check(
        &mut self,
        enrolment_id: &str,
        question_id: &str,
        answer: SecretString,
        earlier: Vec<SecretString>,
    ) -> Result<Option<String>, BackendError> {
        let weak = step!(self, |token| self.service.enrolment_check(
            &self.caller,
            &token,
            enrolment_id,
            question_id,
            answer.clone(),
            &earlier,
        ))?;
        Ok(weak.map(|weak| weak.code().to_owned()))
    }

    async fn enrolment_submit(
        &mut self,
        enrolment_id: &str,
        answers: Vec<Answer>,
    ) -> Result<usize, BackendError> {
        step!(self, |token| self.service.enrolment_submit(
            &self.caller,
            &token,
            enrolment_id,
            answers.clone()
        ))
    }

    async fn close(&mut self) {
        if let Some(token) = self.token.take()
            && let Err(e) = self.service.logout(&self.caller, token.reveal()).await
        {
            tracing::warn!(error = %e, "closing the IVR session");
        }
    }
}
