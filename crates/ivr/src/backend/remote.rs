//! This server's HTTPS remote API, called as any IVR platform calls it:
//! `Login` with an API user when the call is answered, each function with
//! the newest one-time session ID, `Logout` when the call ends.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_service::api::{
    AccountResult, Answer, ChallengeQuestion, ChallengeView, RandomPassword, UserMatch, Validation,
};

use super::{Backend, BackendError, BackendSession, CallContext};

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
        #[derive(Deserialize)]
        struct Login {
            session: String,
        }
        let base = self.settings.base_url.trim_end_matches('/').to_owned();
        let login: Login = post(
            &self.client,
            &base,
            "Login",
            &json!({"user": self.settings.api_user, "password": self.settings.api_password.expose_secret()}),
        )
        .await?;
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

#[derive(Deserialize)]
struct UserEntry {
    user_id: String,
    display_name: String,
    department: String,
}

#[derive(Deserialize)]
struct QuestionEntry {
    question_id: String,
    text: String,
    max_digits: i64,
}

#[derive(Deserialize)]
struct AccountEntry {
    account: String,
    target: String,
    ok: bool,
    error: Option<String>,
    message: Option<String>,
    was_locked: Option<bool>,
}

impl From<AccountEntry> for AccountResult {
    fn from(a: AccountEntry) -> Self {
        AccountResult {
            account: a.account,
            target: a.target,
            ok: a.ok,
            error: a.error,
            message: a.message,
            was_locked: a.was_locked,
        }
    }
}

impl RemoteSession {
    /// Calls `function` with the current session ID added to `body`, and
    /// keeps the next one.
    async fn call<T: DeserializeOwned>(
        &mut self,
        function: &str,
        mut body: Value,
    ) -> Result<T, BackendError> {
        let Some(session) = self.session.clone() else {
            return Err(BackendError::new(
                "invalid_session",
                "the session has ended",
            ));
        };
        body["session"] = Value::String(session);
        let response: Value = match post(&self.client, &self.base, function, &body).await {
            Ok(v) => v,
            Err(e) => {
                if matches!(
                    e.code.as_str(),
                    "invalid_session" | "session_expired" | "session_revoked"
                ) {
                    self.session = None;
                }
                return Err(e);
            }
        };
        if let Some(next) = response.get("session").and_then(Value::as_str) {
            self.session = Some(next.to_owned());
        }
        serde_json::from_value(response)
            .map_err(|e| BackendError::new("bad_response", format!("{function}: {e}")))
    }
}

#[async_trait]
impl BackendSession for RemoteSession {
    async fn find_users(&mut self, keypad_id: &str) -> Result<Vec<UserMatch>, BackendError> {
        #[derive(Deserialize)]
        struct R {
            users: Vec<UserEntry>,
        }
        let r: R = self
            .call("UserIVRList", json!({"ivr_id": keypad_id}))
            .await?;
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
        #[derive(Deserialize)]
        struct R {
            challenge_id: String,
            questions: Vec<QuestionEntry>,
        }
        let mut body = json!({"user_id": user_id});
        if let Some(number) = caller_number {
            body["caller_number"] = Value::String(number.to_owned());
        }
        let r: R = self.call("UserQuestionsGet", body).await?;
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
        #[derive(Deserialize)]
        struct R {
            valid: bool,
            attempts_left: u32,
            locked: bool,
        }
        let answers: Vec<Value> = answers
            .iter()
            .map(|a| json!({"question_id": a.question_id, "answer": a.answer.expose_secret()}))
            .collect();
        let r: R = self
            .call(
                "UserAnswersValidate",
                json!({"challenge_id": challenge_id, "answers": answers}),
            )
            .await?;
        Ok(Validation {
            valid: r.valid,
            attempts_left: r.attempts_left,
            locked: r.locked,
        })
    }

    async fn random_password(&mut self, user_id: &str) -> Result<RandomPassword, BackendError> {
        #[derive(Deserialize)]
        struct R {
            password: SecretString,
            spoken: Vec<String>,
        }
        let r: R = self
            .call("PasswordRandomGet", json!({"user_id": user_id}))
            .await?;
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
        #[derive(Deserialize)]
        struct R {
            results: Vec<AccountEntry>,
        }
        let r: R = self
            .call(
                "UserPasswordSync",
                json!({"user_id": user_id, "password": password.expose_secret()}),
            )
            .await?;
        Ok(r.results.into_iter().map(AccountResult::from).collect())
    }

    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, BackendError> {
        #[derive(Deserialize)]
        struct R {
            results: Vec<AccountEntry>,
        }
        let r: R = self
            .call("UserAccountsUnlock", json!({"user_id": user_id}))
            .await?;
        Ok(r.results.into_iter().map(AccountResult::from).collect())
    }

    async fn close(&mut self) {
        if let Some(session) = self.session.take()
            && let Err(e) = post::<Value>(
                &self.client,
                &self.base,
                "Logout",
                &json!({"session": session}),
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
    body: &Value,
) -> Result<T, BackendError> {
    let response = client
        .post(format!("{base}/{function}"))
        .json(body)
        .send()
        .await
        .map_err(|e| {
            let code = if e.is_timeout() {
                "timeout"
            } else {
                "unavailable"
            };
            BackendError::new(code, format!("{function}: {}", e))
        })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| BackendError::new("unavailable", format!("{function}: {}", e)))?;
    if !status.is_success() {
        #[derive(Deserialize)]
        struct ErrorBody {
            error: ErrorDetail,
        }
        #[derive(Deserialize)]
        struct ErrorDetail {
            code: String,
            message: String,
        }
        return Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => BackendError::new(&b.error.code, b.error.message),
            Err(_) => BackendError::new("unavailable", format!("{function}: HTTP {status}")),
        });
    }
    serde_json::from_str(&text)
        .map_err(|e| BackendError::new("bad_response", format!("{function}: {e}")))
}
