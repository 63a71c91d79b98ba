//! Benchmark of the full remote-API flow over real HTTPS, on SQLite and
//! PostgreSQL, with the production argon2 cost:
//!
//! Login → UserIVRList → UserQuestionsGet → UserAnswersValidate →
//! PasswordRandomGet → UserPasswordSync → Logout
//!
//! Prints flows per second, p50/p99 per call, and how much of a flow is
//! the argon2 work the security needs (1 login verification, 2 answer
//! verifications and 1 hash of the new password on the local target),
//! measured on its own in the same process.
//!
//! Run: `cargo bench -p touchtone-server --bench api_flow` (PostgreSQL from
//! `TEST_POSTGRES_URL`, as for the tests). Options after `--`:
//! `--flows N` (per concurrency level, default 200), `--sqlite-only`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use touchtone_core::keypad::KeypadDigits;
use touchtone_core::secret::SecretString;
use touchtone_server::config::Config;
use touchtone_service::admin::PersonRecord;
use touchtone_service::enrolment::Question;
use touchtone_service::people::{Account, Person};
use touchtone_testkit::bench::quantile;
use touchtone_testkit::{Db, TestDatabase};

const PEOPLE: usize = 50;

struct Bench {
    base: String,
    client: reqwest::Client,
}

impl Bench {
    async fn call(&self, function: &str, body: Value) -> (Value, Duration) {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}/{function}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        let took = started.elapsed();
        assert!(status.is_success(), "{function}: {status} {body}");
        (body, took)
    }

    /// One full flow; returns each call's latency.
    async fn flow(&self, user: &str) -> Vec<(&'static str, Duration)> {
        let mut times = Vec::with_capacity(7);
        let (b, t) = self
            .call(
                "Login",
                json!({"user": "bench", "password": "bench-password"}),
            )
            .await;
        times.push(("Login", t));
        let (b, t) = self.call("UserIVRList", json!({"session": b["session"], "ivr_id": touchtone_core::keypad::map_to_keypad(user)})).await;
        times.push(("UserIVRList", t));
        let (b, t) = self
            .call(
                "UserQuestionsGet",
                json!({"session": b["session"], "user_id": user}),
            )
            .await;
        times.push(("UserQuestionsGet", t));
        let answers: Vec<Value> = b["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| json!({"question_id": q["question_id"], "answer": "2468"}))
            .collect();
        let (b, t) = self.call("UserAnswersValidate", json!({"session": b["session"], "challenge_id": b["challenge_id"], "answers": answers})).await;
        assert_eq!(b["valid"], true);
        times.push(("UserAnswersValidate", t));
        let (b, t) = self
            .call(
                "PasswordRandomGet",
                json!({"session": b["session"], "user_id": user}),
            )
            .await;
        times.push(("PasswordRandomGet", t));
        let (b, t) = self
            .call(
                "UserPasswordSync",
                json!({"session": b["session"], "user_id": user, "password": b["password"]}),
            )
            .await;
        assert_eq!(b["results"][0]["ok"], true);
        times.push(("UserPasswordSync", t));
        let (_, t) = self.call("Logout", json!({"session": b["session"]})).await;
        times.push(("Logout", t));
        times
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn seed(service: &touchtone_service::Service) {
    let records: Vec<PersonRecord> = (0..PEOPLE)
        .map(|i| PersonRecord {
            person: Person {
                id: format!("user{i:03}"),
                display_name: format!("User {i}"),
                department: "Bench".into(),
                employee_number: None,
                mail: None,
                phone_numbers: vec![],
                disabled: false,
                groups: Vec::new(),
                privileged: false,
            },
            accounts: vec![Account {
                target: "local".into(),
                account: format!("user{i:03}"),
            }],
        })
        .collect();
    service.import_people("bench", &records).await.unwrap();
    for (id, max) in [("q1", 4), ("q2", 6), ("q3", 8)] {
        service
            .add_question("bench", &Question::text(id, &format!("Question {id}"), max))
            .await
            .unwrap();
    }
    for r in &records {
        for q in ["q1", "q2", "q3"] {
            service
                .enroll_answer(
                    "bench",
                    &r.person.id,
                    q,
                    &SecretString::from("2468".to_owned()),
                )
                .await
                .unwrap();
        }
    }
    service
        .add_api_user(
            "bench",
            "bench",
            SecretString::from("bench-password".to_owned()),
            vec!["127.0.0.0/8".into()],
            false,
        )
        .await
        .unwrap();
}

/// Mean time of the argon2 work in one flow, measured alone over `rounds`.
async fn argon2_per_flow(service: &touchtone_service::Service, rounds: u32) -> Duration {
    let hasher = service.hasher().clone();
    let api_hash = hasher
        .hash_password(SecretString::from("bench-password".to_owned()))
        .await
        .unwrap();
    let answer_hash = hasher
        .hash_answer(KeypadDigits::parse("2468").unwrap())
        .await
        .unwrap();
    let started = Instant::now();
    for _ in 0..rounds {
        assert!(
            hasher
                .verify_password(
                    Some(api_hash.clone()),
                    SecretString::from("bench-password".to_owned())
                )
                .await
                .unwrap()
        );
        let pairs = vec![(Some(answer_hash.clone()), KeypadDigits::parse("2468").ok()); 2];
        assert!(hasher.verify_answers(pairs).await.unwrap());
        let password = SecretString::from("Hnr4tAe7mf".to_owned());
        tokio::task::spawn_blocking(move || {
            touchtone_targets::local::hash_password(&password, argon2::Params::default())
        })
        .await
        .unwrap()
        .unwrap();
    }
    started.elapsed() / rounds
}

/// A server on a fresh database, seeded, with a warmed-up client.
struct Setup {
    _database: TestDatabase,
    _dir: Arc<tempfile::TempDir>,
    running: touchtone_server::app::Running,
    bench: Arc<Bench>,
}

async fn setup(db: Db, cheap_hashing: bool) -> Setup {
    let database = TestDatabase::new(db).await;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let text =
        touchtone_server::config::EXAMPLE.replace("{data_dir}", &dir.path().display().to_string());
    let mut config = Config::from_toml(&text).unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.url = database.url.clone();
    if cheap_hashing {
        // argon2's minimum cost: the flow then costs what everything but
        // the hashing costs.
        config.security.argon2_memory_kib = 8;
        config.security.argon2_iterations = 1;
    }
    let running =
        touchtone_server::app::start(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap();
    seed(&running.service).await;
    let cert = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let bench = Arc::new(Bench {
        base: format!("https://localhost:{}/api/v1", running.addr.port()),
        client,
    });
    for i in 0..5 {
        bench.flow(&format!("user{i:03}")).await;
    }
    Setup {
        _database: database,
        _dir: dir,
        running,
        bench,
    }
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / v.len().max(1) as u32
}

/// Mean of `flows` sequential flows.
async fn sequential(bench: &Bench, flows: usize) -> Duration {
    let mut times = Vec::with_capacity(flows);
    for n in 0..flows {
        let started = Instant::now();
        bench.flow(&format!("user{:03}", n % PEOPLE)).await;
        times.push(started.elapsed());
    }
    mean(&times)
}

async fn run(db: Db, flows: usize) {
    let name = match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    };
    // The share of the flow that is not argon2, measured two ways:
    // 1. the same flows with argon2 at its minimum cost, against the
    //    production cost (alternating batches, so both see the same machine);
    // 2. the argon2 work of a flow done alone between flows.
    let cheap = setup(db, true).await;
    let production = setup(db, false).await;
    let (mut cheap_times, mut production_times, mut alone) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..(flows / 20).max(1) {
        cheap_times.push(sequential(&cheap.bench, 20).await);
        production_times.push(sequential(&production.bench, 20).await);
        alone.push(argon2_per_flow(&production.running.service, 5).await);
    }
    let (cheap_mean, production_mean, alone_mean) =
        (mean(&cheap_times), mean(&production_times), mean(&alone));
    println!();
    println!(
        "{name}, sequential flows with production argon2: mean {} ms",
        ms(production_mean)
    );
    println!(
        "  everything but argon2: {} ms = {:.1} % of the flow (same flows with argon2 at minimum cost)",
        ms(cheap_mean),
        cheap_mean.as_secs_f64() / production_mean.as_secs_f64() * 100.0
    );
    println!(
        "  argon2 work of a flow done alone: {} ms, leaving {:.1} % for everything else",
        ms(alone_mean),
        (1.0 - alone_mean.as_secs_f64() / production_mean.as_secs_f64()) * 100.0
    );
    cheap.running.stop().await.unwrap();
    let bench = production.bench.clone();
    for concurrency in [1usize, 8] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let bench = bench.clone();
            let count = flows / concurrency;
            tasks.push(tokio::spawn(async move {
                let mut all = Vec::new();
                for n in 0..count {
                    let user = format!("user{:03}", (worker * 7 + n) % PEOPLE);
                    let flow_started = Instant::now();
                    let calls = bench.flow(&user).await;
                    all.push((calls, flow_started.elapsed()));
                }
                all
            }));
        }
        let mut per_call: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        let mut flow_times = Vec::new();
        for t in tasks {
            for (calls, flow_time) in t.await.unwrap() {
                flow_times.push(flow_time);
                for (name, d) in calls {
                    per_call.entry(name).or_default().push(d);
                }
            }
        }
        let elapsed = started.elapsed();
        flow_times.sort();
        let done = flow_times.len();
        println!();
        println!(
            "{name}, concurrency {concurrency}: {done} flows in {:.2} s = {:.1} flows/s; flow p50 {} ms, p99 {} ms",
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64(),
            ms(quantile(&flow_times, 0.5)),
            ms(quantile(&flow_times, 0.99))
        );
        println!("  {:<22} {:>9} {:>9}", "call", "p50 ms", "p99 ms");
        let mut no_hash = Vec::new();
        for (call, mut times) in per_call {
            times.sort();
            println!(
                "  {:<22} {:>9} {:>9}",
                call,
                ms(quantile(&times, 0.5)),
                ms(quantile(&times, 0.99))
            );
            if matches!(
                call,
                "UserIVRList" | "UserQuestionsGet" | "PasswordRandomGet" | "Logout"
            ) {
                no_hash.extend(times);
            }
        }
        no_hash.sort();
        println!(
            "  calls that hash nothing: p50 {} ms, p99 {} ms",
            ms(quantile(&no_hash, 0.5)),
            ms(quantile(&no_hash, 0.99))
        );
    }
    production.running.stop().await.unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flows = args
        .iter()
        .position(|a| a == "--flows")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let sqlite_only = args.iter().any(|a| a == "--sqlite-only");
    touchtone_server::tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "touchtone api_flow benchmark: {} cores, production argon2 cost (m=19 MiB, t=2, p=1)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        run(Db::Sqlite, flows).await;
        if !sqlite_only {
            run(Db::Postgres, flows).await;
        }
    });
}
