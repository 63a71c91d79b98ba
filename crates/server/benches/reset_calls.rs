//! Benchmark of complete phone password-reset calls: `sipp` places calls
//! concurrently to the server's SIP listener, each keying the demo user
//! ivrtest's ID and answers as RFC 4733 events, choosing reset, listening
//! to the password read twice and accepting it (about 60 s a call, as a
//! real caller's). The server is the real one (`app::start` with the demo
//! data and the production argon2 cost) on SQLite.
//!
//! Prints completed resets, calls per hour sustained at that concurrency,
//! the server's CPU per call, the argon2 share of it (2 answer
//! verifications and 1 hash of the new password on the local target,
//! measured alone in the same process), and the CPU-bound ceiling
//! (calls per hour if the two cores did nothing else).
//!
//! Run: `cargo bench -p touchtone-server --bench reset_calls`.
//! Environment: `RESET_BENCH_CALLS` (total, default 200),
//! `RESET_BENCH_CONCURRENT` (default 100), `RESET_BENCH_RATE` (new calls
//! per second, default 4).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use touchtone_core::keypad::KeypadDigits;
use touchtone_core::secret::SecretString;
use touchtone_testkit::bench::{env_or, own_cpu_seconds};
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;

/// The argon2 work of one reset call, done alone.
async fn argon2_per_call(
    service: &touchtone_service::Service,
    params: argon2::Params,
    rounds: u32,
) -> f64 {
    let hasher = service.hasher().clone();
    let answer = hasher
        .hash_answer(KeypadDigits::parse("2468").unwrap())
        .await
        .unwrap();
    let started = own_cpu_seconds();
    for _ in 0..rounds {
        let pairs = vec![(Some(answer.clone()), KeypadDigits::parse("2468").ok()); 2];
        assert!(hasher.verify_answers(pairs).await.unwrap());
        let password = SecretString::from("Hnr4tAe7mf".to_owned());
        let params = params.clone();
        tokio::task::spawn_blocking(move || {
            touchtone_targets::local::hash_password(&password, params)
        })
        .await
        .unwrap()
        .unwrap();
    }
    (own_cpu_seconds() - started) / f64::from(rounds)
}

fn count_resets(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"ET_ADMIN_RESET_SUCCESS\""))
        .count()
}

async fn run(calls: u32, concurrent: u32, rate: u32) {
    let dir = tempfile::tempdir().unwrap();
    let sip = SocketAddr::from(([127, 0, 0, 1], ports::port()));
    let http = SocketAddr::from(([127, 0, 0, 1], ports::port()));
    let mut config = touchtone_server::demo::demo_config(dir.path(), http, Some(sip)).unwrap();
    if let Some(s) = config.sip.as_mut() {
        s.tcp = None;
        // sipp is one source carrying every call, as a trunk would be.
        s.limit.trusted = vec!["127.0.0.0/8".parse().unwrap()];
    }
    let params = argon2::Params::new(
        config.security.argon2_memory_kib,
        config.security.argon2_iterations,
        config.security.argon2_parallelism,
        None,
    )
    .unwrap();
    let running =
        touchtone_server::app::start(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap();
    touchtone_server::demo::seed(&running.service)
        .await
        .unwrap();
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/ivr_reset_rfc4733.xml"
    ))
    .unwrap();
    let events = dir.path().join("events.jsonl");

    let cpu_before = own_cpu_seconds();
    let started = Instant::now();
    let limit = concurrent.to_string();
    let rate_arg = rate.to_string();
    let sipp = Sipp::start(
        &scenario,
        Some(sip),
        calls,
        &["-l", &limit, "-r", &rate_arg],
        &[],
    );
    let outcome = sipp
        .finish(Duration::from_secs(u64::from(calls / rate.max(1)) + 600))
        .await;
    // The last resets' events reach the file within the delivery interval.
    let mut resets = count_resets(&events);
    for _ in 0..50 {
        if resets >= calls as usize {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        resets = count_resets(&events);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds() - cpu_before;
    let failed = outcome
        .log
        .lines()
        .find(|l| l.contains("Failed call"))
        .unwrap_or("")
        .to_owned();

    let argon2 = argon2_per_call(&running.service, params, 10).await;
    let per_call = cpu / resets.max(1) as f64;
    println!(
        "{calls} calls, up to {concurrent} at once, {rate} new a second: {resets} resets completed in {wall:.0} s (sipp {}{})",
        if outcome.success {
            "ok"
        } else {
            "reported failures"
        },
        if failed.is_empty() {
            String::new()
        } else {
            format!(": {}", failed.trim())
        }
    );
    println!(
        "  sustained {:.0} reset calls/hour at this concurrency (each call ~60 s, as a caller's)",
        resets as f64 / wall * 3600.0
    );
    println!(
        "  server CPU {cpu:.1} s = {:.3} s per call; argon2 {argon2:.3} s per call = {:.0} % of it",
        per_call,
        argon2 / per_call * 100.0
    );
    println!(
        "  CPU-bound ceiling on {} cores: {:.0} reset calls/hour",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::thread::available_parallelism().map_or(1, |n| n.get()) as f64 * 3600.0 / per_call
    );
    running.stop().await.unwrap();
}

fn main() {
    touchtone_server::tls::install_crypto_provider();
    let calls = env_or("RESET_BENCH_CALLS", 200);
    let concurrent = env_or("RESET_BENCH_CONCURRENT", 100);
    let rate = env_or("RESET_BENCH_RATE", 4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "touchtone reset_calls benchmark: {} cores, production argon2 cost (m=19 MiB, t=2, p=1), SQLite",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        run(calls, concurrent, rate).await;
    });
}
