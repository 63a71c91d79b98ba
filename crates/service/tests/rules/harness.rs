//! A service on a throw-away database (SQLite or PostgreSQL), with no
//! HTTP in front: the real store, real targets (the local directory and a
//! command target whose program refuses one account), cheap but real
//! argon2id, events into the outbox, and a clock the test moves.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use touchtone_core::lockout::LockoutPolicy;
use touchtone_core::secret::{Pepper, SecretString};
use touchtone_service::admin::PersonRecord;
use touchtone_service::api::Answer;
use touchtone_service::enrolment::Question;
use touchtone_service::people::{Account, Person};
use touchtone_service::{Caller, Door, EventRouter, Hasher, ManualClock, Service, Settings};
use touchtone_store::Store;
use touchtone_targets::Targets;
use touchtone_targets::command::CommandTarget;
use touchtone_targets::local::LocalTarget;
use touchtone_testkit::{Db, TestDatabase};

pub const API_USER: &str = "ivr";
pub const API_PASSWORD: &str = "ivr-password-1";
pub const HELPDESK: &str = "helpdesk";
pub const HELPDESK_PASSWORD: &str = "helpdesk-password-1";
/// Everyone's answer to every question.
pub const ANSWER: &str = "2468";
/// A password every policy here accepts.
pub const NEW_PASSWORD: &str = "Hnr4tAe7mf";

/// The action every event is routed to (so each lands in the outbox).
pub const EVENTS: &str = "events";

pub struct Harness {
    pub service: Service,
    /// The test's own connection, to look at what the service wrote.
    pub store: Store,
    pub clock: ManualClock,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

/// The API door from loopback.
pub fn api() -> Caller {
    caller(Door::Api, "127.0.0.1")
}

/// The built-in IVR's door, for a SIP peer on loopback.
pub fn ivr() -> Caller {
    caller(Door::Ivr, "127.0.0.1")
}

pub fn caller(door: Door, ip: &str) -> Caller {
    Caller {
        ip: ip.parse::<IpAddr>().expect("an address"),
        door,
    }
}

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

impl Harness {
    /// A service with people `alice`, `bob` (both with a local account)
    /// and `carol` (local, and an account on `hr` that refuses resets),
    /// three enrolled questions each, and two API users.
    pub async fn start(db: Db) -> Harness {
        Harness::start_with(db, |_| {}).await
    }

    /// [`Harness::start`] with settings changed by `configure`.
    pub async fn start_with(db: Db, configure: impl FnOnce(&mut Settings)) -> Harness {
        let database = TestDatabase::new(db).await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = database.store().await;
        let mut targets = Targets::new();
        targets.insert(Arc::new(
            LocalTarget::new("local", Default::default(), store.clone())
                .with_params(cheap_argon2()),
        ));
        // A real program behind the command target: it refuses every
        // reset ("password was used before"), as a directory with
        // history would.
        let refuse = dir.path().join("refuse");
        std::fs::write(
            &refuse,
            "#!/bin/sh\ncat >/dev/null\necho '{\"ok\":false,\"error\":\"policy_rejected\",\"message\":\"password was used before\"}'\n",
        )
        .expect("write the target program");
        std::fs::set_permissions(&refuse, std::fs::Permissions::from_mode(0o755))
            .expect("make it executable");
        targets.insert(Arc::new(CommandTarget::new(
            "hr",
            Default::default(),
            refuse,
            Vec::new(),
            Duration::from_secs(10),
        )));
        let mut settings = Settings {
            lockout: LockoutPolicy {
                attempts_per_session: 3,
                max_failures: 5,
                window_ms: 24 * 3600 * 1000,
                lockout_ms: 30 * 60 * 1000,
            },
            login_max_failures: 5,
            ..Settings::default()
        };
        configure(&mut settings);
        let pepper = Pepper::from_bytes(vec![7; 32]).expect("a pepper");
        let hasher = Hasher::new(pepper, cheap_argon2(), 2);
        let clock = ManualClock::default();
        let service = Service::new(
            database.store().await,
            targets,
            settings,
            hasher,
            EventRouter::new(vec![(EVENTS.to_owned(), None)]),
            Arc::new(clock.clone()),
        );
        let harness = Harness {
            service,
            store,
            clock,
            _db: database,
            _dir: dir,
        };
        harness.seed().await;
        harness
    }

    async fn seed(&self) {
        let people = [
            person("alice", &[("local", "alice")]),
            person("bob", &[("local", "bob")]),
            person("carol", &[("local", "carol"), ("hr", "CAROL")]),
        ];
        let s = &self.service;
        s.import_people("test", &people).await.expect("import");
        for id in ["year", "pet", "city"] {
            let question = Question::text(id, &format!("{id}?"), 8);
            s.add_question("test", &question).await.expect("question");
        }
        for p in &people {
            for q in ["year", "pet", "city"] {
                s.enroll_answer("test", &p.person.id, q, &secret(ANSWER))
                    .await
                    .expect("enrol");
            }
        }
        let nets = vec!["127.0.0.0/8".to_owned()];
        s.add_api_user("test", API_USER, secret(API_PASSWORD), nets.clone(), false)
            .await
            .expect("API user");
        s.add_api_user("test", HELPDESK, secret(HELPDESK_PASSWORD), nets, true)
            .await
            .expect("helpdesk");
    }

    /// Adds `id`, with a local account and no answers enrolled.
    pub async fn add_unenrolled(&self, id: &str) {
        let record = person(id, &[("local", id)]);
        self.service
            .import_people("test", &[record])
            .await
            .expect("import");
    }

    /// A session through `caller`'s door: `Login` for the API, the
    /// built-in IVR's session for the IVR.
    pub async fn session(&self, caller: &Caller) -> String {
        let token = match caller.door {
            Door::Ivr => {
                self.service
                    .open_ivr_session(caller, "call-1", Some("+15550100"))
                    .await
            }
            _ => {
                self.service
                    .login(caller, API_USER, secret(API_PASSWORD))
                    .await
            }
        };
        token.expect("a session").reveal().to_owned()
    }

    /// Answers `user`'s questions with `answer`; returns whether they
    /// were accepted, whether the user is now locked, and the next ID.
    pub async fn answer(
        &self,
        caller: &Caller,
        token: &str,
        user: &str,
        answer: &str,
    ) -> (bool, bool, String) {
        let challenge = self
            .service
            .questions_get(caller, token, user)
            .await
            .expect("questions");
        let answers = challenge
            .value
            .questions
            .iter()
            .map(|q| Answer {
                question_id: q.question_id.clone(),
                answer: secret(answer),
            })
            .collect();
        let validation = self
            .service
            .answers_validate(
                caller,
                challenge.session.reveal(),
                &challenge.value.challenge_id,
                answers,
            )
            .await
            .expect("validate");
        (
            validation.value.valid,
            validation.value.locked,
            validation.session.reveal().to_owned(),
        )
    }

    /// A session of `caller`'s door that has verified `user`.
    pub async fn verified(&self, caller: &Caller, user: &str) -> String {
        let token = self.session(caller).await;
        let (valid, _, next) = self.answer(caller, &token, user, ANSWER).await;
        assert!(valid, "{user}'s right answers were refused");
        next
    }

    /// The events in the outbox for `user`, with their types, sorted by
    /// type (events of one transaction share a time, so time cannot order
    /// them).
    pub async fn events_of(&self, user: &str) -> Vec<(String, serde_json::Value)> {
        let mut conn = self.store.acquire().await.expect("a connection");
        let rows: Vec<(String,)> = sqlx::query_as("SELECT payload FROM outbox WHERE action = $1")
            .bind(EVENTS)
            .fetch_all(&mut *conn)
            .await
            .expect("read the outbox");
        let mut events: Vec<(String, serde_json::Value)> = rows
            .into_iter()
            .filter_map(|(payload,)| serde_json::from_str::<serde_json::Value>(&payload).ok())
            .filter(|e| e["user_id"] == user)
            .map(|e| (e["type"].as_str().unwrap_or("").to_owned(), e))
            .collect();
        events.sort_by(|a, b| a.0.cmp(&b.0));
        events
    }

    /// How many events of `event_type` the outbox holds for `user`.
    pub async fn count_events(&self, user: &str, event_type: &str) -> usize {
        self.events_of(user)
            .await
            .iter()
            .filter(|(t, _)| t == event_type)
            .count()
    }

    /// Gives a local account a password (as an operator would).
    pub async fn set_password(&self, account: &str, password: &str) {
        self.service
            .set_account_password("test", "local", account, &secret(password))
            .await
            .expect("set the local password");
    }

    /// Locks `user` with wrong answers on the phone (two calls).
    pub async fn lock_through_the_phone(&self, user: &str) {
        for _ in 0..2 {
            let mut call = self.session(&ivr()).await;
            for _ in 0..3 {
                let (_, locked, next) = self.answer(&ivr(), &call, user, "1357").await;
                if locked {
                    return;
                }
                call = next;
            }
        }
        panic!("{user} was not locked");
    }

    /// Whether `password` is the local account's password.
    pub async fn local_password_is(&self, account: &str, password: &str) -> bool {
        self.service
            .check_account_password("local", account, &secret(password))
            .await
            .expect("check the password")
    }
}

/// A person of department QA with `accounts` (target, account).
pub fn person(id: &str, accounts: &[(&str, &str)]) -> PersonRecord {
    PersonRecord {
        person: Person {
            id: id.into(),
            display_name: id.into(),
            department: "QA".into(),
            employee_number: None,
            mail: None,
            phone_numbers: vec![],
            disabled: false,
            groups: Vec::new(),
            privileged: false,
        },
        accounts: accounts
            .iter()
            .map(|(target, account)| Account {
                target: (*target).into(),
                account: (*account).into(),
            })
            .collect(),
    }
}

/// argon2id at a cost that keeps the tests quick (still argon2id).
fn cheap_argon2() -> argon2::Params {
    argon2::Params::new(4096, 1, 1, None).expect("valid argon2 parameters")
}
