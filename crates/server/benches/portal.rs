//! Benchmark of the self-service portal over real HTTPS: signing in
//! (`POST /sign-in`, which checks the person's own password) and the
//! status page (`GET /`), 50 people at once, on the embedded SQLite store.
//!
//! The password check is measured apart from the rest, three ways: the
//! local target's argon2id verification alone (production cost, m = 19
//! MiB, t = 2), an LDAP bind as the person against a real slapd alone, and
//! the whole sign-in against a second server whose argon2 is at its
//! minimum cost, which is what everything but the password check costs.
//! Latency is what the client sees on loopback (TLS and HTTP included);
//! the client runs in the same process on the same two cores.
//!
//! Run: `cargo bench -p touchtone-server --bench portal` (`-- --rounds N`,
//! sign-ins per person, default 10; `--no-ldap` skips slapd).

use std::sync::Arc;
use std::time::{Duration, Instant};

use touchtone_core::secret::SecretString;
use touchtone_server::config::{
    Config, DirectoryImportConfig, DirectoryTargetConfig, TargetConfig,
};
use touchtone_service::admin::PersonRecord;
use touchtone_service::directory_sync::SyncMode;
use touchtone_service::people::{Account, Person};
use touchtone_testkit::bench::quantile;
use touchtone_testkit::slapd::{self, PEOPLE_DN, Slapd};

const PEOPLE: usize = 50;
const PASSWORD: &str = "Bench!Pass1word";
/// Any 32 characters: the form token the browser would have been given.
const PRE: &str = "bench-pre-session-token-0123456789abcdef";

struct Portal {
    base: String,
    client: reqwest::Client,
}

impl Portal {
    /// Signs `login` in; returns the session cookie and the time taken.
    async fn sign_in(&self, login: &str) -> (String, Duration) {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}/sign-in", self.base))
            .header("cookie", format!("__Host-tt-pre={PRE}"))
            .form(&[("login", login), ("password", PASSWORD), ("csrf", PRE)])
            .send()
            .await
            .expect("sign-in request");
        let took = started.elapsed();
        assert_eq!(response.status(), 303, "{login} was not signed in");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("__Host-tt-portal="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        (cookie, took)
    }

    async fn status(&self, cookie: &str) -> Duration {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}/", self.base))
            .header("cookie", format!("__Host-tt-portal={cookie}"))
            .send()
            .await
            .expect("status request");
        let status = response.status();
        let page = response.text().await.expect("the page");
        let took = started.elapsed();
        assert!(status.is_success() && page.contains("<main"), "{status}");
        took
    }
}

struct Server {
    _dir: tempfile::TempDir,
    running: touchtone_server::app::Running,
    portal: Arc<Portal>,
}

/// A server with PEOPLE people whose local accounts have PASSWORD; with
/// `ldap`, their accounts are on that directory instead.
async fn server(cheap_hashing: bool, ldap: Option<&Slapd>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let text =
        touchtone_server::config::EXAMPLE.replace("{data_dir}", &dir.path().display().to_string());
    let mut config = Config::from_toml(&text).unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    if cheap_hashing {
        config.security.argon2_memory_kib = 8;
        config.security.argon2_iterations = 1;
    }
    if let Some(server) = ldap {
        add_directory(&mut config, server);
    }
    let running =
        touchtone_server::app::start(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap();
    let service = &running.service;
    if ldap.is_some() {
        service
            .sync_directory("bench", "corp", SyncMode::Apply)
            .await
            .unwrap();
    } else {
        let records: Vec<PersonRecord> = (0..PEOPLE)
            .map(|i| PersonRecord {
                person: person(i),
                accounts: vec![Account {
                    target: "local".into(),
                    account: login(i),
                }],
            })
            .collect();
        service.import_people("bench", &records).await.unwrap();
        for i in 0..PEOPLE {
            service
                .set_account_password("bench", "local", &login(i), &secret(PASSWORD))
                .await
                .unwrap();
        }
    }
    let cert = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(PEOPLE)
        .build()
        .unwrap();
    let portal = Arc::new(Portal {
        base: format!("https://localhost:{}", running.addr.port()),
        client,
    });
    Server {
        _dir: dir,
        running,
        portal,
    }
}

fn login(i: usize) -> String {
    format!("user{i:03}")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn person(i: usize) -> Person {
    Person {
        id: login(i),
        display_name: format!("User {i}"),
        department: "Bench".into(),
        employee_number: None,
        mail: None,
        phone_numbers: vec![],
        disabled: false,
        groups: Vec::new(),
        privileged: false,
    }
}

fn add_directory(config: &mut Config, server: &Slapd) {
    let toml = format!(
        "name = \"corp-ldap\"\nurl = \"{}\"\nstarttls = true\nca_file = \"{}\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\nuser_base_dn = \"{PEOPLE_DN}\"\npool_size = 8\n",
        server.url(),
        server.ca_file.display(),
        slapd::SERVICE_DN,
        slapd::SERVICE_PASSWORD,
    );
    let target: DirectoryTargetConfig = toml::from_str(&toml).unwrap();
    config.targets.push(TargetConfig::Ldap(target));
    let import: DirectoryImportConfig = toml::from_str(&format!(
        "name = \"corp\"\ntarget = \"corp-ldap\"\nbase_dn = \"{PEOPLE_DN}\"\nfilter = \"(objectClass=inetOrgPerson)\"\n"
    ))
    .unwrap();
    config.directory_imports.push(import);
    config.validate().unwrap();
}

/// Runs `rounds` of `task(person)` for every person at once; returns the
/// sorted latencies and the wall time.
async fn concurrently<F, Fut>(rounds: usize, task: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let task = Arc::new(task);
    let started = Instant::now();
    let handles: Vec<_> = (0..PEOPLE)
        .map(|i| {
            let task = task.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(rounds);
                for _ in 0..rounds {
                    times.push(task(i).await);
                }
                times
            })
        })
        .collect();
    let mut all = Vec::with_capacity(PEOPLE * rounds);
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    (all, wall)
}

fn report(what: &str, (times, wall): &(Vec<Duration>, Duration)) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<58} p50 {:>7.2} ms  p99 {:>7.2} ms  ({} in {:.1} s, {:.0}/s)",
        ms(quantile(times, 0.5)),
        ms(quantile(times, 0.99)),
        times.len(),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64()
    );
}

/// 50 people using the portal as people do: once a second each signs in
/// and opens the status page (their starts spread over the second), for
/// `rounds` seconds. Returns the sorted sign-in and status latencies.
async fn paced(server: &Server, rounds: usize) -> (Vec<Duration>, Vec<Duration>) {
    let started = tokio::time::Instant::now();
    let handles: Vec<_> = (0..PEOPLE)
        .map(|i| {
            let portal = server.portal.clone();
            tokio::spawn(async move {
                let offset = Duration::from_millis(1000 * i as u64 / PEOPLE as u64);
                let mut times = Vec::with_capacity(rounds);
                for r in 0..rounds {
                    let at = started + offset + Duration::from_secs(r as u64);
                    tokio::time::sleep_until(at).await;
                    let (cookie, sign_in) = portal.sign_in(&login(i)).await;
                    times.push((sign_in, portal.status(&cookie).await));
                }
                times
            })
        })
        .collect();
    let (mut sign_ins, mut pages) = (Vec::new(), Vec::new());
    for h in handles {
        for (s, p) in h.await.unwrap() {
            sign_ins.push(s);
            pages.push(p);
        }
    }
    sign_ins.sort();
    pages.sort();
    (sign_ins, pages)
}

fn report_paced(what: &str, times: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<58} p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests)",
        ms(quantile(times, 0.5)),
        ms(quantile(times, 0.99)),
        times.len()
    );
}

/// Sign-ins and status pages on `server`: paced as people use it, then
/// 50 clients sending as fast as they can (saturation).
async fn portal_rounds(server: &Server, rounds: usize, label: &str) {
    let (sign_ins, pages) = paced(server, rounds).await;
    report_paced(&format!("sign-in, 50 people, {label}"), &sign_ins);
    report_paced(&format!("status page, 50 people, {label}"), &pages);
    // Warm up: each person signs in once; their sessions serve the status
    // pages.
    let mut cookies = Vec::with_capacity(PEOPLE);
    for i in 0..PEOPLE {
        cookies.push(server.portal.sign_in(&login(i)).await.0);
    }
    let portal = server.portal.clone();
    let signed_in = concurrently(rounds, move |i| {
        let portal = portal.clone();
        async move { portal.sign_in(&login(i)).await.1 }
    })
    .await;
    report(&format!("  saturated: sign-in, {label}"), &signed_in);
    let portal = server.portal.clone();
    let cookies = Arc::new(cookies);
    let status = concurrently(rounds * 2, move |i| {
        let portal = portal.clone();
        let cookies = cookies.clone();
        async move { portal.status(&cookies[i]).await }
    })
    .await;
    report(&format!("  saturated: status page, {label}"), &status);
}

/// The password check alone through the service, 50 at once.
async fn password_checks(server: &Server, target: &'static str, rounds: usize, label: &str) {
    let service = &server.running.service;
    let mut one_at_a_time = Vec::with_capacity(PEOPLE);
    for i in 0..PEOPLE {
        let started = Instant::now();
        let ok = service
            .check_account_password(target, &login(i), &secret(PASSWORD))
            .await
            .unwrap();
        assert!(ok);
        one_at_a_time.push(started.elapsed());
    }
    one_at_a_time.sort();
    report_paced(&format!("{label}, one at a time"), &one_at_a_time);
    let service = service.clone();
    let checks = concurrently(rounds, move |i| {
        let service = service.clone();
        async move {
            let started = Instant::now();
            let ok = service
                .check_account_password(target, &login(i), &secret(PASSWORD))
                .await
                .unwrap();
            assert!(ok);
            started.elapsed()
        }
    })
    .await;
    report(&format!("  saturated: {label}"), &checks);
}

async fn run(rounds: usize, ldap: bool) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name\t: ").map(str::to_owned))
        })
        .unwrap_or_default();
    println!(
        "portal benchmark: {PEOPLE} people at once, {rounds} sign-ins each; {} cores ({cpu})",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let cheap = server(true, None).await;
    portal_rounds(&cheap, rounds, "argon2 at minimum cost (all but the check)").await;
    cheap.running.stop().await.unwrap();

    let production = server(false, None).await;
    portal_rounds(&production, rounds, "local target, production argon2").await;
    password_checks(
        &production,
        "local",
        rounds,
        "argon2 check alone (local target, production cost)",
    )
    .await;
    production.running.stop().await.unwrap();

    if ldap {
        let ldif: String = (0..PEOPLE)
            .map(|i| {
                slapd::person_ldif(
                    &login(i),
                    &format!("User {i}"),
                    "Bench",
                    &format!("{}", 2000 + i),
                    PASSWORD,
                )
            })
            .collect();
        let directory = Slapd::start(&ldif);
        let server = server(false, Some(&directory)).await;
        password_checks(
            &server,
            "corp-ldap",
            rounds,
            "LDAP bind alone (slapd, StartTLS)",
        )
        .await;
        portal_rounds(&server, rounds, "LDAP target (bind as the person)").await;
        server.running.stop().await.unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let ldap = !args.iter().any(|a| a == "--no-ldap");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(rounds, ldap));
}
