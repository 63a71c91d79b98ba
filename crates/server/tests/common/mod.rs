//! `spawn_app`: a real touchtone server on a random loopback port, over
//! real TLS, on a throw-away database (SQLite or PostgreSQL), with a small
//! seeded data set; and an HTTPS client that trusts its certificate.

#![allow(dead_code)] // each test binary uses a different part of this

pub mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use touchtone_core::secret::SecretString;
use touchtone_server::config::Config;
use touchtone_service::admin::PersonRecord;
use touchtone_service::enrolment::Question;
use touchtone_service::people::{Account, Person};
use touchtone_service::{ManualClock, Service};
use touchtone_store::{Store, StoreOptions};
use touchtone_testkit::{Db, TestDatabase};

pub const API_USER: &str = "ivr";
pub const API_PASSWORD: &str = "ivr-password-1";
pub const HELPDESK_USER: &str = "helpdesk";
pub const HELPDESK_PASSWORD: &str = "helpdesk-password-1";
pub const FAR_USER: &str = "far";
pub const FAR_PASSWORD: &str = "far-password-12";

/// Answers of every seeded person: (question, answer). `ivrtest` answers
/// 2468 to everything.
pub fn answers_of(user: &str) -> Vec<(&'static str, &'static str)> {
    match user {
        "ivrtest" => vec![("year", "2468"), ("pet", "2468"), ("city", "2468")],
        _ => vec![("year", "1956"), ("pet", "Rex"), ("city", "Boston")],
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub service: Service,
    /// The test's own connection to the server's database, to look at
    /// what the server wrote (the service keeps its store to itself).
    pub store: Store,
    pub clock: ManualClock,
    pub config: Config,
    pub data_dir: Arc<tempfile::TempDir>,
    running: Option<touchtone_server::app::Running>,
}

/// The configuration tests run with: cheap argon2 (still argon2id), a
/// file event action, small limits that tests can reach.
pub fn test_config(db: &TestDatabase, data_dir: &std::path::Path) -> Config {
    let text =
        touchtone_server::config::EXAMPLE.replace("{data_dir}", &data_dir.display().to_string());
    let mut config = Config::from_toml(&text).expect("the example config loads");
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.url = db.url.clone();
    config.security.argon2_memory_kib = 4096;
    config.security.argon2_iterations = 1;
    config.login.max_failures = 5;
    config.verification.attempts_per_session = 3;
    config.verification.max_failures = 5;
    config
}

impl TestApp {
    /// Starts a server on `db` with the default test configuration.
    pub async fn spawn(db: &TestDatabase) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: &TestDatabase, tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = Arc::new(tempfile::tempdir().unwrap());
        let mut config = test_config(db, data_dir.path());
        tweak(&mut config);
        let app = Self::start(config, data_dir, ManualClock::default()).await;
        seed(&app.service).await;
        app
    }

    /// Starts (or restarts) a server with a given config, directory and clock.
    pub async fn start(
        config: Config,
        data_dir: Arc<tempfile::TempDir>,
        clock: ManualClock,
    ) -> Self {
        let running = touchtone_server::app::start(&config, Arc::new(clock.clone()), true)
            .await
            .expect("the server starts");
        let addr = running.addr;
        let store = Store::connect(&config.database.url, &StoreOptions::default())
            .await
            .expect("the test's own connection to the database");
        let cert = std::fs::read(data_dir.path().join("tls/cert.pem")).unwrap();
        touchtone_server::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            addr,
            base: format!("https://localhost:{}/api/v1", addr.port()),
            client,
            service: running.service.clone(),
            store,
            clock,
            config,
            data_dir,
            running: Some(running),
        }
    }

    /// A client that connects from another loopback address (`127.0.0.2`
    /// and so on), to be a stranger to allow-lists that name `127.0.0.1`.
    pub fn client_from(&self, local: std::net::IpAddr) -> reqwest::Client {
        let cert = std::fs::read(self.data_dir.path().join("tls/cert.pem")).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
            .resolve("localhost", self.addr)
            .local_address(local)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// What the server's `/readyz` reports.
    pub fn readiness(&self) -> Arc<touchtone_server::http::health::Readiness> {
        self.running.as_ref().expect("running").readiness.clone()
    }

    /// GETs `path` from the server's root; returns the status and JSON body.
    pub async fn get_root(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("https://localhost:{}{path}", self.addr.port()))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Stops the server, keeping the database and directory for a restart.
    pub async fn stop(mut self) -> (Config, Arc<tempfile::TempDir>, ManualClock) {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
        (
            self.config.clone(),
            self.data_dir.clone(),
            self.clock.clone(),
        )
    }

    pub fn events_file(&self) -> PathBuf {
        self.data_dir.path().join("events.jsonl")
    }

    /// POSTs JSON to an API function; returns the status and the body.
    pub async fn call(&self, function: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/{function}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs raw bytes with a content type.
    pub async fn call_raw(
        &self,
        function: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/{function}", self.base))
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn login(&self) -> String {
        self.login_as(API_USER, API_PASSWORD).await
    }

    pub async fn login_as(&self, user: &str, password: &str) -> String {
        let (status, body) = self
            .call("Login", json!({"user": user, "password": password}))
            .await;
        assert_eq!(status, 200, "{body}");
        body["session"].as_str().unwrap().to_owned()
    }

    /// Logs in and verifies `user` with their right answers; returns the
    /// newest session ID.
    pub async fn verified_session(&self, user: &str) -> String {
        let session = self.login().await;
        let (status, body) = self
            .call(
                "UserQuestionsGet",
                json!({"session": session, "user_id": user}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let answers = right_answers(user, &body);
        let (status, body) = self
            .call("UserAnswersValidate", json!({"session": body["session"], "challenge_id": body["challenge_id"], "answers": answers}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["valid"], true, "{body}");
        body["session"].as_str().unwrap().to_owned()
    }

    /// Verifies `user` and sets `password` on their accounts by the API,
    /// which must succeed.
    pub async fn reset_by_api(&self, user: &str, password: &str) {
        let verified = self.verified_session(user).await;
        let (status, body) = self
            .call(
                "UserPasswordSync",
                json!({"session": verified, "user_id": user, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A session after one wrong validation for `user`.
    pub async fn fail_once(&self, session: &str, user: &str) -> (u16, Value) {
        let (status, body) = self
            .call(
                "UserQuestionsGet",
                json!({"session": session, "user_id": user}),
            )
            .await;
        if status != 200 {
            return (status, body);
        }
        let answers = wrong_answers(&body);
        self.call("UserAnswersValidate", json!({"session": body["session"], "challenge_id": body["challenge_id"], "answers": answers}))
            .await
    }

    /// Counts rows of the tables that hold business state, to show a
    /// refused request changed nothing.
    pub async fn business_snapshot(&self) -> Vec<(String, i64)> {
        let mut conn = self.store.acquire().await.unwrap();
        let mut counts = Vec::new();
        for table in [
            "people",
            "keypad_ids",
            "accounts",
            "answers",
            "api_users",
            "challenges",
            "verification_failures",
            "person_locks",
            "local_accounts",
            "operations",
            "operation_steps",
            "outbox",
            "session_tokens",
        ] {
            let row: (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            counts.push((table.to_owned(), row.0));
        }
        let hashes: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT account, password_hash, locked FROM local_accounts ORDER BY account",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        counts.push((
            "local_accounts.state".into(),
            hashes
                .iter()
                .map(|(_, h, l)| h.as_ref().map_or(0, |h| h.len() as i64) + l)
                .sum(),
        ));
        counts
    }

    pub async fn events(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.events_file()) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Waits (bounded) until the events file holds an event of this type.
    pub async fn wait_for_event(&self, event_type: &str, user: &str) -> Value {
        for _ in 0..100 {
            if let Some(e) = self
                .events()
                .await
                .into_iter()
                .find(|e| e["type"] == event_type && e["user_id"] == user)
            {
                return e;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no {event_type} event for {user} arrived; events: {:?}",
            self.events().await
        );
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.cancel.cancel();
        }
    }
}

/// Whether `password` is the local account's password now.
pub async fn password_is(app: &TestApp, account: &str, password: &str) -> bool {
    app.service
        .check_account_password("local", account, &SecretString::from(password.to_owned()))
        .await
        .unwrap()
}

pub fn right_answers(user: &str, challenge: &Value) -> Vec<Value> {
    let answers = answers_of(user);
    challenge["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let id = q["question_id"].as_str().unwrap();
            let answer = answers.iter().find(|(qid, _)| *qid == id).unwrap().1;
            json!({"question_id": id, "answer": answer})
        })
        .collect()
}

pub fn wrong_answers(challenge: &Value) -> Vec<Value> {
    challenge["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| json!({"question_id": q["question_id"], "answer": "0000"}))
        .collect()
}

/// People: jsmith and ksmith (keypad collision 576484), ivrtest, and
/// mlocked whose local account starts locked. All have a local account.
async fn seed(service: &Service) {
    let person = |id: &str, name: &str, dept: &str, employee: &str| PersonRecord {
        person: Person {
            id: id.into(),
            display_name: name.into(),
            department: dept.into(),
            employee_number: Some(employee.into()),
            mail: None,
            phone_numbers: vec![],
            disabled: false,
            groups: Vec::new(),
            privileged: false,
        },
        accounts: vec![Account {
            target: "local".into(),
            account: id.into(),
        }],
    };
    let people = vec![
        person("jsmith", "John Smith", "Finance", "E1001"),
        person("ksmith", "Karen Smith", "Engineering", "E1002"),
        person("ivrtest", "IVR Test", "QA", "E1003"),
        person("mlocked", "Mia Locked", "Sales", "E1004"),
    ];
    service.import_people("test", &people).await.unwrap();
    for (id, text, max_digits) in [
        ("year", "Mother's birth year?", 4),
        ("pet", "First pet?", 12),
        ("city", "Birth city?", 16),
    ] {
        service
            .add_question("test", &Question::text(id, text, max_digits))
            .await
            .unwrap();
    }
    for p in &people {
        for (question, answer) in answers_of(&p.person.id) {
            service
                .enroll_answer(
                    "test",
                    &p.person.id,
                    question,
                    &SecretString::from(answer.to_owned()),
                )
                .await
                .unwrap();
        }
    }
    service
        .set_local_lock("test", "mlocked", true)
        .await
        .unwrap();
    let secret = |s: &str| SecretString::from(s.to_owned());
    service
        .add_api_user(
            "test",
            API_USER,
            secret(API_PASSWORD),
            vec!["127.0.0.0/8".into()],
            false,
        )
        .await
        .unwrap();
    service
        .add_api_user(
            "test",
            HELPDESK_USER,
            secret(HELPDESK_PASSWORD),
            vec!["127.0.0.1/32".into()],
            true,
        )
        .await
        .unwrap();
    service
        .add_api_user(
            "test",
            FAR_USER,
            secret(FAR_PASSWORD),
            vec!["10.9.0.0/16".into()],
            false,
        )
        .await
        .unwrap();
}

/// Voice OTP as the tests want it: national numbers in Pakistan, only
/// Pakistani destinations, three calls per number.
pub fn otp_settings(c: &mut touchtone_server::config::Config) {
    c.otp.default_region = Some("PK".into());
    c.otp.allowed_prefixes = vec!["+92".into()];
    c.otp.per_number_max = 3;
    let dir = c.security.pepper_file.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("callback-secret");
    std::fs::write(&secret, "a-callback-secret-of-some-length").unwrap();
    c.otp.callback_secret_file = Some(secret);
    c.otp.callback_allow_http = true;
}

/// The code an OTP call still keeps in the store (`None` once it ended).
pub async fn stored_code(app: &TestApp, id: &str) -> Option<String> {
    use sqlx::Row;
    let mut conn = app.store.acquire().await.unwrap();
    sqlx::query("SELECT code FROM otp_calls WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<Option<String>, _>("code")
}

pub async fn new_db(db: Db) -> TestDatabase {
    TestDatabase::new(db).await
}
