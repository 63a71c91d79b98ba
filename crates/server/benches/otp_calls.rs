//! Benchmark of voice OTP, in two parts, on the real server (`app::start`,
//! SQLite with `synchronous=FULL`, production argon2 cost):
//!
//! 1. **Accepting**: HTTPS clients POST `/api/v1/calls` (HTTP Basic as an
//!    API user; the first request of each client pays argon2, the rest hit
//!    the verified-credential cache) as fast as the server answers; every
//!    accepted call is committed to disk before its 202. Prints accepted
//!    requests per second and the latency quantiles. No SIP: the calls stay
//!    queued.
//! 2. **Placing**: a `sipp` callee (answers, listens, waits for our BYE) is
//!    the trunk; the given number of calls is queued at once and the worker
//!    places them with its concurrency cap. Each call reads the code once,
//!    offers to repeat it, waits 5 s and says goodbye (~12 s). Prints call
//!    setups per second (answered calls over the ramp), the most calls up at
//!    once, the server's CPU, and how every call ended: none may be lost or
//!    left unfinished.
//!
//! Run: `cargo bench -p touchtone-server --bench otp_calls`.
//! Environment: `OTP_BENCH_ACCEPTS` (default 4000), `OTP_BENCH_CLIENTS` (32),
//! `OTP_BENCH_CALLS` (default 3000), `OTP_BENCH_CONCURRENT` (worker cap,
//! default 2500).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Row;
use touchtone_testkit::bench::{env_or, own_cpu_seconds, quantile, raise_fd_limit};
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;

async fn server(
    dir: &std::path::Path,
    trunk: Option<SocketAddr>,
    concurrent: u32,
) -> (touchtone_server::app::Running, touchtone_store::Store) {
    let http = SocketAddr::from(([127, 0, 0, 1], ports::port()));
    let sip = trunk.map(|_| SocketAddr::from(([127, 0, 0, 1], ports::port())));
    let mut config = touchtone_server::demo::demo_config(dir, http, sip).unwrap();
    if let Some(trunk) = trunk {
        touchtone_server::demo::use_trunk(&mut config, &format!("sip:{trunk}")).unwrap();
        if let Some(s) = config.sip.as_mut() {
            s.tcp = None;
        }
    }
    config.otp.per_number_max = 1_000_000;
    config.otp.per_api_user_max = 1_000_000;
    config.otp.daily_per_api_user = 1_000_000;
    config.otp.max_concurrent = concurrent as usize;
    config.otp.ring_timeout_secs = 30;
    config.database.max_connections = 16;
    config.ivr.tts = false;
    let running =
        touchtone_server::app::start(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap();
    touchtone_server::demo::seed(&running.service)
        .await
        .unwrap();
    // The bench's own connection, to count what the server wrote.
    let store = touchtone_store::Store::connect(&config.database.url, &Default::default())
        .await
        .unwrap();
    (running, store)
}

fn client(dir: &std::path::Path) -> reqwest::Client {
    let cert = std::fs::read(dir.join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

async fn accepting(total: u32, clients: u32) {
    let dir = tempfile::tempdir().unwrap();
    let (running, store) = server(dir.path(), None, 1).await;
    let url = format!("https://{}/api/v1/calls", running.addr);
    let http = client(dir.path());
    let per_client = total / clients.max(1);
    let barrier = Arc::new(tokio::sync::Barrier::new(clients as usize + 1));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let url = url.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client as usize);
            let mut refused = 0u32;
            // The first request of each client pays argon2 (then the
            // verified-credential cache answers); it is not counted.
            let _ = http
                .post(&url)
                .basic_auth("demo", Some("demo-password"))
                .json(&json!({"to": format!("+92301{c:07}"), "code": "482913"}))
                .send()
                .await;
            barrier.wait().await;
            for i in 0..per_client {
                let number = format!("+92300{:07}", c * per_client + i);
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .basic_auth("demo", Some("demo-password"))
                    .json(&json!({"to": number, "code": "482913"}))
                    .send()
                    .await;
                let ok = matches!(&response, Ok(r) if r.status().as_u16() == 202);
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    refused += 1;
                }
            }
            (latencies, refused)
        }));
    }
    barrier.wait().await;
    let cpu_before = own_cpu_seconds();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (l, r) = t.await.unwrap();
        latencies.extend(l);
        refused += r;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds() - cpu_before;
    latencies.sort();
    let mut conn = store.acquire().await.unwrap();
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM otp_calls")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get("n");
    drop(conn);
    println!(
        "accepting: {} calls accepted by {clients} HTTPS clients in {wall:.1} s = {:.0} accepted/s ({refused} refused; {stored} on disk, with one warm-up call per client)",
        latencies.len(),
        latencies.len() as f64 / wall
    );
    println!(
        "  accept latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; process CPU {:.2} ms per request (server and clients)",
        quantile(&latencies, 0.5).as_secs_f64() * 1e3,
        quantile(&latencies, 0.99).as_secs_f64() * 1e3,
        quantile(&latencies, 1.0).as_secs_f64() * 1e3,
        cpu / latencies.len().max(1) as f64 * 1e3
    );
    running.stop().await.unwrap();
}

async fn placing(calls: u32, concurrent: u32) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/otp_callee.xml"
    ))
    .unwrap();
    let sipp = Sipp::start(&scenario, None, calls, &[], &[]);
    let (running, store) = server(dir.path(), Some(sipp.addr()), concurrent).await;
    let engine = running.sip.clone().unwrap();
    let url = format!("https://{}/api/v1/calls", running.addr);
    let http = client(dir.path());
    // Queue them all (through the API, as a client would).
    let queue_started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..16u32 {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while i < calls {
                let response = http
                    .post(&url)
                    .basic_auth("demo", Some("demo-password"))
                    .json(&json!({"to": format!("+92300{:07}", i), "code": "482913", "repeat": 1}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 202);
                i += 16;
            }
        }));
    }
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sampler = {
        let peak = peak.clone();
        let engine = engine.clone();
        tokio::spawn(async move {
            loop {
                let active = engine.stats().active_calls;
                peak.fetch_max(active, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let cpu_before = own_cpu_seconds();
    for t in tasks {
        t.await.unwrap();
    }
    let queued_in = queue_started.elapsed();
    // Wait until every call is final (or nothing has changed for a minute).
    let mut last_change = Instant::now();
    let mut last_open = i64::MAX;
    loop {
        let mut conn = store.acquire().await.unwrap();
        let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM otp_calls WHERE is_final = 0")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get("n");
        drop(conn);
        if open == 0 {
            break;
        }
        if open != last_open {
            last_open = open;
            last_change = Instant::now();
        }
        if last_change.elapsed() > Duration::from_secs(60) {
            println!("  {open} calls stuck unfinished for a minute");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let wall = queue_started.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds() - cpu_before;
    sampler.abort();
    let mut conn = store.acquire().await.unwrap();
    let outcomes =
        sqlx::query("SELECT status, COUNT(*) AS n FROM otp_calls GROUP BY status ORDER BY status")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let outcomes: Vec<String> = outcomes
        .iter()
        .map(|r| format!("{} {}", r.get::<String, _>("status"), r.get::<i64, _>("n")))
        .collect();
    // Setups are counted while the worker had free slots: up to the
    // cap-th answer (later calls waited for earlier ones to end).
    let answered: Vec<i64> =
        sqlx::query("SELECT at FROM otp_call_history WHERE status = 'answered' ORDER BY at")
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>("at"))
            .collect();
    let dialing_first: i64 =
        sqlx::query("SELECT MIN(at) AS first FROM otp_call_history WHERE status = 'dialing'")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get("first");
    let setup_ms = sqlx::query(
        "SELECT AVG(ring_ms) AS avg_ring, MAX(ring_ms) AS max_ring FROM otp_calls WHERE ring_ms IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let n = answered.len().min(concurrent as usize);
    let last = answered
        .get(n.saturating_sub(1))
        .copied()
        .unwrap_or(dialing_first);
    let ramp = (last - dialing_first).max(1) as f64 / 1000.0;
    let stats = engine.stats();
    println!(
        "placing: {calls} calls queued through the API in {:.1} s; worker cap {concurrent}; all ended after {wall:.1} s",
        queued_in.as_secs_f64()
    );
    println!(
        "  the first {n} answered {ramp:.1} s after the first dial = {:.0} call setups/s; invite-to-answer mean {:.0} ms, max {} ms",
        n as f64 / ramp,
        setup_ms.get::<Option<f64>, _>("avg_ring").unwrap_or(0.0),
        setup_ms.get::<Option<i64>, _>("max_ring").unwrap_or(0)
    );
    println!(
        "  most calls up at once: {}; RTP send lateness p99 {:.2} ms; server CPU {cpu:.1} s = {:.1} ms per call",
        peak.load(std::sync::atomic::Ordering::Relaxed),
        stats.send_lateness_p99.as_secs_f64() * 1e3,
        cpu / f64::from(calls) * 1e3
    );
    println!("  outcomes: {}", outcomes.join(", "));
    let outcome = sipp.finish(Duration::from_secs(30)).await;
    println!(
        "  sipp callee: {}",
        if outcome.success {
            "every call completed"
        } else {
            "reported failures"
        }
    );
    running.stop().await.unwrap();
}

fn main() {
    touchtone_server::tls::install_crypto_provider();
    raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "touchtone otp_calls benchmark: {} cores, SQLite (synchronous=FULL), production argon2",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        accepting(
            env_or("OTP_BENCH_ACCEPTS", 4000),
            env_or("OTP_BENCH_CLIENTS", 32),
        )
        .await;
        placing(
            env_or("OTP_BENCH_CALLS", 3000),
            env_or("OTP_BENCH_CONCURRENT", 2500),
        )
        .await;
    });
}
