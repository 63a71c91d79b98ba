//! The service in this process, through the IVR's door.

use async_trait::async_trait;
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
            let token = self
                .service
                .open_ivr_session(&self.caller, &call_id, caller_number.as_deref())
                .await?;
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
        let token = self.token().await?;
        let r = self.service.ivr_list(&self.caller, &token, keypad_id).await;
        self.rotate(r)
    }

    async fn questions(
        &mut self,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<ChallengeView, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .questions_get_for(&self.caller, &token, user_id, caller_number)
            .await;
        self.rotate(r)
    }

    async fn validate(
        &mut self,
        challenge_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Validation, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .answers_validate(&self.caller, &token, challenge_id, answers)
            .await;
        self.rotate(r)
    }

    async fn factors(&mut self, user_id: &str) -> Result<FactorsNeeded, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .factors_get(&self.caller, &token, user_id)
            .await;
        let view = self.rotate(r)?;
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
        let token = self.token().await?;
        let r = self
            .service
            .factor_challenge(&self.caller, &token, user_id, factor)
            .await;
        Ok(self.rotate(r)?.challenge_id)
    }

    async fn factor_verify(
        &mut self,
        challenge_id: &str,
        code: SecretString,
    ) -> Result<Validation, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .factor_verify(&self.caller, &token, challenge_id, code.expose_secret())
            .await;
        self.rotate(r)
    }

    async fn random_password(&mut self, user_id: &str) -> Result<RandomPassword, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .password_random_get(&self.caller, &token, user_id)
            .await;
        self.rotate(r)
    }

    async fn sync_password(
        &mut self,
        user_id: &str,
        password: SecretString,
    ) -> Result<Vec<AccountResult>, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .password_sync(&self.caller, &token, user_id, password, None)
            .await;
        self.rotate(r)
    }

    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .accounts_unlock(&self.caller, &token, user_id, None)
            .await;
        self.rotate(r)
    }

    async fn enrolment_start(
        &mut self,
        user_id: &str,
        pin: SecretString,
    ) -> Result<EnrolmentStart, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .enrolment_start(&self.caller, &token, user_id, pin)
            .await;
        self.rotate(r)
    }

    async fn enrolment_check(
        &mut self,
        enrolment_id: &str,
        question_id: &str,
        answer: SecretString,
        earlier: Vec<SecretString>,
    ) -> Result<Option<String>, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .enrolment_check(
                &self.caller,
                &token,
                enrolment_id,
                question_id,
                answer,
                &earlier,
            )
            .await;
        Ok(self.rotate(r)?.map(|weak| weak.code().to_owned()))
    }

    async fn enrolment_submit(
        &mut self,
        enrolment_id: &str,
        answers: Vec<Answer>,
    ) -> Result<usize, BackendError> {
        let token = self.token().await?;
        let r = self
            .service
            .enrolment_submit(&self.caller, &token, enrolment_id, answers)
            .await;
        self.rotate(r)
    }

    async fn close(&mut self) {
        if let Some(token) = self.token.take()
            && let Err(e) = self.service.logout(&self.caller, token.reveal()).await
        {
            tracing::warn!(error = %e, "closing the IVR session");
        }
    }
}
