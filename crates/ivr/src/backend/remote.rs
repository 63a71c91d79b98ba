//! This server's HTTPS remote API, called as any IVR platform calls it:
//! `Login` with an API user when the call is answered, each function with
//! the newest one-time session ID, `Logout` when the call ends. The
//! bodies are the server's own wire types (`touchtone-api`), so the two
//! sides cannot drift apart.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use touchtone_api::ErrorBody;
use touchtone_api::ErrorCode;
use touchtone_api::enrolment::{
    UserEnrolmentCheckRequest, UserEnrolmentCheckResponse, UserEnrolmentStartRequest,
    UserEnrolmentStartResponse, UserEnrolmentSubmitRequest, UserEnrolmentSubmitResponse,
};
use touchtone_api::factors::{
    UserFactorChallengeRequest, UserFactorChallengeResponse, UserFactorVerifyRequest,
    UserFactorVerifyResponse, UserFactorsGetRequest, UserFactorsGetResponse,
};
use touchtone_api::functions::{
    AccountResultEntry, AccountsResponse, AnswerEntry, LoginRequest, LogoutResponse,
    PasswordRandomGetResponse, SessionRequest, SessionResponse, UserAccountsUnlockRequest,
    UserAnswersValidateRequest, UserAnswersValidateResponse, UserIvrListRequest,
    UserIvrListResponse, UserPasswordSyncRequest, UserQuestionsGetRequest,
    UserQuestionsGetResponse, UserRequest,
};
use touchtone_core::secret::SecretString;
use touchtone_service::api::{
    AccountResult, Answer, ChallengeQuestion, ChallengeView, EnrolmentOffer, EnrolmentStart,
    OfferedQuestion, RandomPassword, UserMatch, Validation,
};

use super::{Backend, BackendError, BackendSession, CallContext, FactorsNeeded};

#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// The API's base, e.g. `https://touchtone.example.com:8443/api/v1`.
    pub base_url: String,
    pub api_user: String,
    pub api_password: SecretString,
    /// PEM CA certificate(s) to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Limit on each request (connect included).
    pub timeout: Duration,
}

pub struct Remote {
    settings: RemoteSettings,
    client: reqwest::Client,
}

impl Remote {
    pub fn new(settings: RemoteSettings) -> Result<Remote, String> {
        // reqwest is built without a default rustls provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)));
        if let Some(file) = &settings.ca_file {
            let pem = std::fs::read(file)
                .map_err(|e| format!("reading the CA file {}: {e}", file.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("the CA file {}: {e}", file.display()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| format!("building the HTTPS client: {e}"))?;
        Ok(Remote { settings, client })
    }
}

#[async_trait]
impl Backend for Remote {
    async fn open(&self, _call: &CallContext) -> Result<Box<dyn BackendSession>, BackendError> {
        let base = self.settings.base_url.trim_end_matches('/').to_owned();
        let request = LoginRequest {
            user: self.settings.api_user.clone(),
            password: self.settings.api_password.clone(),
        };
        let login: SessionResponse = post(&self.client, &base, "Login", &request).await?;
        Ok(Box::new(RemoteSession {
            client: self.client.clone(),
            base,
            session: Some(login.session),
        }))
    }
}

struct RemoteSession {
    client: reqwest::Client,
    base: String,
    session: Option<String>,
}

/// A response that carries the next session ID.
trait Rotating {
    fn next_session(&self) -> &str;
}

macro_rules! rotating {
    ($($t:ty),*) => {$(
        impl Rotating for $t {
            fn next_session(&self) -> &str {
                &self.session
            }
        }
    )*};
}
rotating!(
    UserIvrListResponse,
    UserQuestionsGetResponse,
    UserAnswersValidateResponse,
    PasswordRandomGetResponse,
    AccountsResponse,
    UserEnrolmentStartResponse,
    UserEnrolmentCheckResponse,
    UserEnrolmentSubmitResponse,
    UserFactorsGetResponse,
    UserFactorChallengeResponse,
    UserFactorVerifyResponse
);

fn answer_entries(answers: Vec<Answer>) -> Vec<AnswerEntry> {
    answers
        .into_iter()
        .map(|a| AnswerEntry {
            question_id: a.question_id,
            answer: a.answer,
        })
        .collect()
}

fn account_result(a: AccountResultEntry) -> AccountResult {
    AccountResult {
        account: a.account,
        target: a.target,
        ok: a.ok,
        error: a.error,
        message: a.message,
        was_locked: a.was_locked,
    }
}

impl RemoteSession {
    /// The session ID to present, or an error once the session has ended.
    fn session(&self) -> Result<String, BackendError> {
        self.session.clone().ok_or_else(|| BackendError::Service {
            code: ErrorCode::InvalidSession,
            message: "the session has ended".into(),
        })
    }

    /// Calls `function` and keeps the next session ID (or forgets the
    /// session when the server says it has ended).
    async fn call<T: DeserializeOwned + Rotating>(
        &mut self,
        function: &str,
        body: &impl Serialize,
    ) -> Result<T, BackendError> {
        match post::<T>(&self.client, &self.base, function, body).await {
            Ok(response) => {
                self.session = Some(response.next_session().to_owned());
                Ok(response)
            }
            Err(e) => {
                if e.ends_session() {
                    self.session = None;
                }
                Err(e)
            }
        }
    }
}

#[async_trait]
impl BackendSession for RemoteSession {
    async fn find_users(&mut self, keypad_id: &str) -> Result<Vec<UserMatch>, BackendError> {
        let request = UserIvrListRequest {
            session: self.session()?,
            ivr_id: keypad_id.to_owned(),
        };
        let r: UserIvrListResponse = self.call("UserIVRList", &request).await?;
        Ok(r.users
            .into_iter()
            .map(|u| UserMatch {
                user_id: u.user_id,
                display_name: u.display_name,
                department: u.department,
            })
            .collect())
    }

    async fn questions(
        &mut self,
        user_id: &str,
        caller_number: Option<&str>,
    ) -> Result<ChallengeView, BackendError> {
        let request = UserQuestionsGetRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
            caller_number: caller_number.map(str::to_owned),
        };
        let r: UserQuestionsGetResponse = self.call("UserQuestionsGet", &request).await?;
        Ok(ChallengeView {
            challenge_id: r.challenge_id,
            questions: r
                .questions
                .into_iter()
                .map(|q| ChallengeQuestion {
                    question_id: q.question_id,
                    text: q.text,
                    max_digits: q.max_digits,
                })
                .collect(),
        })
    }

    async fn validate(
        &mut self,
        challenge_id: &str,
        answers: Vec<Answer>,
    ) -> Result<Validation, BackendError> {
        let request = UserAnswersValidateRequest {
            session: self.session()?,
            challenge_id: challenge_id.to_owned(),
            answers: answer_entries(answers),
        };
        let r: UserAnswersValidateResponse = self.call("UserAnswersValidate", &request).await?;
        Ok(Validation {
            valid: r.valid,
            attempts_left: r.attempts_left,
            locked: r.locked,
        })
    }

    async fn factors(&mut self, user_id: &str) -> Result<FactorsNeeded, BackendError> {
        let request = UserFactorsGetRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
        };
        let r: UserFactorsGetResponse = self.call("UserFactorsGet", &request).await?;
        Ok(FactorsNeeded {
            enrolled: r.enrolled,
            operations: r.operations,
        })
    }

    async fn factor_challenge(
        &mut self,
        user_id: &str,
        factor: &str,
    ) -> Result<String, BackendError> {
        let request = UserFactorChallengeRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
            factor: factor.to_owned(),
        };
        let r: UserFactorChallengeResponse = self.call("UserFactorChallenge", &request).await?;
        Ok(r.challenge_id)
    }

    async fn factor_verify(
        &mut self,
        challenge_id: &str,
        code: SecretString,
    ) -> Result<Validation, BackendError> {
        let request = UserFactorVerifyRequest {
            session: self.session()?,
            challenge_id: challenge_id.to_owned(),
            code,
        };
        let r: UserFactorVerifyResponse = self.call("UserFactorVerify", &request).await?;
        Ok(Validation {
            valid: r.valid,
            attempts_left: r.attempts_left,
            locked: r.locked,
        })
    }

    async fn random_password(&mut self, user_id: &str) -> Result<RandomPassword, BackendError> {
        let request = UserRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
        };
        let r: PasswordRandomGetResponse = self.call("PasswordRandomGet", &request).await?;
        Ok(RandomPassword {
            password: r.password,
            spoken: r.spoken,
        })
    }

    async fn sync_password(
        &mut self,
        user_id: &str,
        password: SecretString,
    ) -> Result<Vec<AccountResult>, BackendError> {
        let request = UserPasswordSyncRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
            password,
            accounts: None,
        };
        let r: AccountsResponse = self.call("UserPasswordSync", &request).await?;
        Ok(r.results.into_iter().map(account_result).collect())
    }

    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, BackendError> {
        let request = UserAccountsUnlockRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
            accounts: None,
        };
        let r: AccountsResponse = self.call("UserAccountsUnlock", &request).await?;
        Ok(r.results.into_iter().map(account_result).collect())
    }

    async fn enrolment_start(
        &mut self,
        user_id: &str,
        pin: SecretString,
    ) -> Result<EnrolmentStart, BackendError> {
        let request = UserEnrolmentStartRequest {
            session: self.session()?,
            user_id: user_id.to_owned(),
            pin,
        };
        let r: UserEnrolmentStartResponse = self.call("UserEnrolmentStart", &request).await?;
        let offer = match (r.enrolment_id, r.questions) {
            (Some(enrolment_id), Some(questions)) => Some(EnrolmentOffer {
                enrolment_id,
                required: r.required.unwrap_or(1),
                questions: questions
                    .into_iter()
                    .map(|q| OfferedQuestion {
                        question_id: q.question_id,
                        text: q.text,
                        min_digits: q.min_digits,
                        max_digits: q.max_digits,
                    })
                    .collect(),
            }),
            _ if r.accepted => {
                return Err(BackendError::BadResponse(
                    "UserEnrolmentStart: accepted without an enrolment".into(),
                ));
            }
            _ => None,
        };
        Ok(EnrolmentStart {
            accepted: r.accepted,
            attempts_left: r.attempts_left,
            locked: r.locked,
            offer,
        })
    }

    async fn enrolment_check(
        &mut self,
        enrolment_id: &str,
        question_id: &str,
        answer: SecretString,
        earlier: Vec<SecretString>,
    ) -> Result<Option<String>, BackendError> {
        let request = UserEnrolmentCheckRequest {
            session: self.session()?,
            enrolment_id: enrolment_id.to_owned(),
            question_id: question_id.to_owned(),
            answer,
            earlier,
        };
        let r: UserEnrolmentCheckResponse = self.call("UserEnrolmentCheck", &request).await?;
        Ok(match (r.ok, r.weak) {
            (true, _) => None,
            (false, weak) => Some(weak.unwrap_or_else(|| "weak".into())),
        })
    }

    async fn enrolment_submit(
        &mut self,
        enrolment_id: &str,
        answers: Vec<Answer>,
    ) -> Result<usize, BackendError> {
        let request = UserEnrolmentSubmitRequest {
            session: self.session()?,
            enrolment_id: enrolment_id.to_owned(),
            answers: answer_entries(answers),
        };
        let r: UserEnrolmentSubmitResponse = self.call("UserEnrolmentSubmit", &request).await?;
        Ok(r.enrolled)
    }

    async fn close(&mut self) {
        if let Some(session) = self.session.take()
            && let Err(e) = post::<LogoutResponse>(
                &self.client,
                &self.base,
                "Logout",
                &SessionRequest { session },
            )
            .await
        {
            tracing::warn!(error = %e, "closing the remote IVR session");
        }
    }
}

/// POSTs `body` to `function`; a non-2xx answer becomes its error code.
/// Bodies are never logged: they carry answers and passwords.
async fn post<T: DeserializeOwned>(
    client: &reqwest::Client,
    base: &str,
    function: &str,
    body: &impl Serialize,
) -> Result<T, BackendError> {
    let response = client
        .post(format!("{base}/{function}"))
        .json(body)
        .send()
        .await
        .map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else {
                "cannot be reached"
            };
            BackendError::Unreachable(format!("{function}: {what}: {e}"))
        })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| BackendError::Unreachable(format!("{function}: {e}")))?;
    if !status.is_success() {
        return Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => match body.code() {
                Some(code) => BackendError::Service {
                    code,
                    message: body.error.message,
                },
                None => BackendError::BadResponse(format!(
                    "{function}: HTTP {status} with an unknown code {}",
                    body.error.code
                )),
            },
            Err(_) => BackendError::Unreachable(format!("{function}: HTTP {status}")),
        });
    }
    serde_json::from_str(&text).map_err(|e| BackendError::BadResponse(format!("{function}: {e}")))
}
