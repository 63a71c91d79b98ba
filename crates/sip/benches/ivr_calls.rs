//! Load benchmark of the telephony engine: sipp places calls that hear
//! prompts for about 30 s and key three digit strings (RFC 4733) while the
//! prompts play, like a password-reset caller. Prints, per load level:
//! CPU seconds of this process (the engine; sipp is a separate process)
//! per call-minute, resident memory per call, the 99th percentile of RTP
//! send lateness, and digits lost.
//!
//! Run: `cargo bench -p touchtone-sip --bench ivr_calls` (levels from
//! `IVR_BENCH_LEVELS`, default "200,1000"; calls are started at
//! `IVR_BENCH_RATE` per second, default 50; `IVR_BENCH_SINK=1` holds the
//! callers' media ports open; `IVR_BENCH_LOAD=own` places the calls with
//! this binary's own generator mode instead of sipp: our engine as the
//! caller, listening on its media ports and sending caller audio;
//! `IVR_BENCH_STRICT=0` turns strict RTP off, so sockets stay unconnected;
//! `IVR_BENCH_URING=1` makes the pacer batch its I/O through io_uring
//! (off by default, as in the configuration); the generator inherits
//! strict RTP, and uses io_uring only with `IVR_BENCH_GEN_URING=1`;
//! `IVR_BENCH_RT=0` keeps the engine's pacer threads at normal priority
//! (the generator's always are: it stands for phones elsewhere, not for
//! this server);
//! `IVR_BENCH_CALLER_AUDIO=0` makes the generator's callers suppress
//! silence, sending only their key presses, like sipp's callers).
//!
//! sipp-driven figures overstate the engine's cost: sipp sends its key
//! presses from raw sockets (100–250 open at 1,000 calls) and never listens
//! on its media ports, and on one host the kernel offers every UDP packet
//! and every ICMP error to each raw socket. `perf` put that
//! (`raw_local_deliver`, `raw_icmp_error`) at about 60 % of the pacer
//! threads' time at 1,000 calls, so loads past a few hundred calls are
//! measured with the generator, which has no raw sockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use touchtone_sip::{CallHandler, Channel, CollectSpec, Engine, Prompt, SipConfig};
use touchtone_testkit::bench::{
    env_or, own_cpu_seconds, process_cpu_seconds, raise_fd_limit, read_stat,
};
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;

const EXPECTED: [&str; 3] = ["4878378", "2468", "2468"];

#[derive(Default)]
struct Results {
    calls: u64,
    complete: u64,
    digit_strings_lost: u64,
    call_seconds: f64,
}

struct BenchFlow {
    sink: bool,
    prompt: Prompt,
    results: Arc<Mutex<Results>>,
}

#[async_trait::async_trait]
impl CallHandler for BenchFlow {
    async fn handle(&self, mut channel: Channel) {
        let started = Instant::now();
        // sipp advertises a media port per call but never listens on it;
        // on loopback every packet sent there costs an ICMP error. With
        // IVR_BENCH_SINK=1 the bench holds that port open (never reading
        // it), as a real caller's phone would be listening.
        let _sink = self
            .sink
            .then(|| std::net::UdpSocket::bind(channel.info.remote_media).ok())
            .flatten();
        let spec = CollectSpec {
            max_digits: 10,
            first_digit_timeout: Duration::from_secs(12),
            inter_digit_timeout: Duration::from_secs(3),
            ..CollectSpec::default()
        };
        let mut got = Vec::new();
        for _ in 0..3 {
            match channel
                .play_and_collect(std::slice::from_ref(&self.prompt), &spec)
                .await
            {
                Ok(c) => got.push(c.digits),
                Err(_) => break,
            }
        }
        // Keep talking until the caller hangs up.
        let _ = channel
            .play(
                &[
                    self.prompt.clone(),
                    self.prompt.clone(),
                    self.prompt.clone(),
                ],
                false,
            )
            .await;
        channel.ended().await;
        let mut r = self.results.lock().unwrap_or_else(|e| e.into_inner());
        r.calls += 1;
        r.call_seconds += started.elapsed().as_secs_f64();
        let lost = EXPECTED
            .iter()
            .enumerate()
            .filter(|(i, e)| got.get(*i).map(String::as_str) != Some(**e))
            .count();
        r.digit_strings_lost += lost as u64;
        if lost == 0 {
            r.complete += 1;
        }
    }
}

/// CPU seconds per thread name (pacer threads, tokio workers, ...).
fn cpu_by_thread() -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Some((name, cpu)) = read_stat(&entry.path().join("stat").to_string_lossy()) {
            let name = name
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_string();
            *out.entry(name).or_insert(0.0) += cpu;
        }
    }
    out
}

/// The kernel's count of UDP datagrams sent to a port nobody listens on
/// (each one costs an ICMP port-unreachable, not rate-limited on loopback).
fn udp_no_ports() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "NoPorts")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// An on/off setting from the environment: on unless set to "0".
fn switch(name: &str, default: bool) -> bool {
    std::env::var(name).map_or(default, |v| v != "0")
}

/// Strict RTP (connected sockets) unless `IVR_BENCH_STRICT=0`; the
/// generator process inherits the setting.
fn strict_rtp() -> bool {
    switch("IVR_BENCH_STRICT", true)
}

/// io_uring for the engine's RTP as configured by default, unless
/// `IVR_BENCH_URING` says otherwise.
fn rtp_io_uring() -> bool {
    switch("IVR_BENCH_URING", SipConfig::default().rtp_io_uring)
}

/// io_uring for the generator's RTP only with `IVR_BENCH_GEN_URING=1`. On
/// loopback the sender's system call delivers each packet into the
/// receiver's socket and wakes whoever waits on it, so a generator with a
/// receive armed on every socket made the engine's sends dearer than they
/// would be towards phones elsewhere (0.0300 against 0.0213 CPU-s per
/// call-minute at 3,000 calls).
fn generator_io_uring() -> bool {
    switch("IVR_BENCH_GEN_URING", false)
}

/// The generator's callers send audio all call long, as a phone without
/// silence suppression does, unless `IVR_BENCH_CALLER_AUDIO=0`: then they
/// send only their key presses, as sipp's `play_dtmf` callers (and the
/// Asterisk comparison's) do.
fn caller_audio() -> bool {
    switch("IVR_BENCH_CALLER_AUDIO", true)
}

/// Calls placed by this binary's generator mode with `IVR_BENCH_LOAD=own`,
/// by sipp otherwise.
fn own_load() -> bool {
    std::env::var("IVR_BENCH_LOAD").is_ok_and(|v| v == "own")
}

/// With `IVR_BENCH_SINK=1` the bench holds sipp's advertised media ports
/// open, as a phone would be listening on them.
fn sink() -> bool {
    std::env::var("IVR_BENCH_SINK").is_ok_and(|v| v == "1")
}

/// Real-time pacer threads for the engine unless `IVR_BENCH_RT=0`.
fn rtp_realtime() -> bool {
    switch("IVR_BENCH_RT", true)
}

async fn run_level(concurrent: u32, rate: u32) {
    let results = Arc::new(Mutex::new(Results::default()));
    let flow = BenchFlow {
        sink: sink(),
        prompt: Prompt::concat(&[
            Prompt::tone(440.0, 2500, -15.0),
            Prompt::tone(620.0, 3000, -15.0),
        ]),
        results: results.clone(),
    };
    let config = SipConfig {
        udp: Some(SocketAddr::from(([127, 0, 0, 1], ports::port()))),
        rtp_port_min: 20000,
        rtp_port_max: 39998,
        max_calls: 20_000,
        rtp_timeout_secs: 0,
        strict_rtp: strict_rtp(),
        rtp_io_uring: rtp_io_uring(),
        rtp_realtime: rtp_realtime(),
        // The load generator is one source, as a trunk would be.
        limit: loopback_trusted(),
        ..SipConfig::default()
    };
    let engine = Engine::start(config, Arc::new(flow)).await.expect("engine");
    let scenario = std::fs::read_to_string(format!(
        "{}/benches/ivr_load.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("scenario");
    let total = concurrent * 2;
    let rss_before = rss_bytes();
    let cpu_before = own_cpu_seconds();
    let threads_before = cpu_by_thread();
    engine.reset_lateness();
    let load = if own_load() {
        Load::Own(spawn_generator(engine.sip_addr(), concurrent, rate, total))
    } else {
        Load::Sipp(Sipp::start(
            &scenario,
            Some(engine.sip_addr()),
            total,
            &[
                "-l",
                &concurrent.to_string(),
                "-r",
                &rate.to_string(),
                "-max_recv_loops",
                "10000",
            ],
            &[],
        ))
    };
    let started = Instant::now();
    let sipp_pid = load.pid();
    let no_ports_before = udp_no_ports();
    let mut sipp_cpu = 0.0f64;
    let mut peak_calls = 0;
    let mut peak_rss = rss_before;
    let sampler = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let s = engine.stats();
            peak_calls = peak_calls.max(s.active_calls);
            peak_rss = peak_rss.max(rss_bytes());
            sipp_cpu = sipp_cpu.max(process_cpu_seconds(sipp_pid));
        }
    };
    let outcome = tokio::select! {
        o = load.finish(Duration::from_secs(600)) => o,
        _ = sampler => unreachable!("the sampler never ends"),
    };
    // Let the last calls' flows record their results.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu = own_cpu_seconds() - cpu_before;
    let stats = engine.stats();
    let r = results.lock().unwrap_or_else(|e| e.into_inner());
    let call_minutes = r.call_seconds / 60.0;
    println!(
        "level {concurrent}: {} calls in {:.0} s, peak {peak_calls} concurrent; CPU {cpu:.1} s = {:.4} CPU-s per call-minute; \
         memory {:.1} KiB per call (peak RSS {:.0} MiB); RTP send lateness p99 {:.2} ms (max bucket {:.2} ms); \
         {} packets sent, {} send failures; digit strings lost {} of {} (calls with every digit: {}); load generator {}",
        r.calls,
        started.elapsed().as_secs_f64(),
        cpu / call_minutes.max(1e-9),
        (peak_rss.saturating_sub(rss_before)) as f64 / 1024.0 / peak_calls.max(1) as f64,
        peak_rss as f64 / 1048576.0,
        stats.send_lateness_p99.as_secs_f64() * 1000.0,
        stats.send_lateness_max_bucket.as_secs_f64() * 1000.0,
        stats.packets_sent,
        stats.send_failures,
        r.digit_strings_lost,
        r.calls * 3,
        r.complete,
        if outcome.success {
            "ok"
        } else {
            "reported failed calls"
        },
    );
    let threads_after = cpu_by_thread();
    let breakdown: Vec<String> = threads_after
        .iter()
        .map(|(name, after)| {
            format!(
                "{name} {:.1}",
                after - threads_before.get(name).copied().unwrap_or(0.0)
            )
        })
        .collect();
    println!("  CPU seconds by thread: {}", breakdown.join(", "));
    println!(
        "  pacer threads: {} with io_uring ({} packets sent and {} read through it), {} at real-time priority at the end",
        stats.io_uring_workers, stats.ring_sends, stats.ring_receives, stats.realtime_workers
    );
    println!(
        "  the load generator used {sipp_cpu:.1} CPU-s over the run; {} of our packets went to ports nobody listened on",
        udp_no_ports() - no_ports_before
    );
    if !outcome.success {
        eprintln!(
            "{}",
            outcome.log.lines().take(40).collect::<Vec<_>>().join("\n")
        );
    }
    engine.shutdown();
}

/// Who places the calls: sipp, or this binary in generator mode.
enum Load {
    Sipp(Sipp),
    Own(tokio::process::Child),
}

impl Load {
    fn pid(&self) -> u32 {
        match self {
            Load::Sipp(s) => s.pid().unwrap_or(0),
            Load::Own(c) => c.id().unwrap_or(0),
        }
    }

    async fn finish(self, limit: Duration) -> touchtone_testkit::sipp::SippOutcome {
        match self {
            Load::Sipp(s) => s.finish(limit).await,
            Load::Own(mut child) => {
                let status = tokio::time::timeout(limit, child.wait()).await;
                let success = matches!(&status, Ok(Ok(s)) if s.success());
                touchtone_testkit::sipp::SippOutcome {
                    success,
                    log: format!("generator: {status:?}"),
                }
            }
        }
    }
}

fn spawn_generator(
    target: SocketAddr,
    concurrent: u32,
    rate: u32,
    total: u32,
) -> tokio::process::Child {
    let exe = std::env::current_exe().expect("the bench binary's path");
    tokio::process::Command::new(exe)
        .args([
            "--generate",
            &target.to_string(),
            &concurrent.to_string(),
            &rate.to_string(),
            &total.to_string(),
        ])
        .kill_on_drop(true)
        .spawn()
        .expect("start the load generator")
}

/// Generator mode: places `total` calls to `target`, `concurrent` at a
/// time, `rate` new calls a second; each keys the same digits at the same
/// moments as `ivr_load.xml` (RFC 4733, with caller audio flowing both
/// ways, as a real phone's, unless `IVR_BENCH_CALLER_AUDIO=0`) and hangs
/// up at 30.4 s. Exits non-zero if any call failed.
async fn generate(target: SocketAddr, concurrent: usize, rate: u32, total: usize) -> bool {
    let config = SipConfig {
        udp: Some(SocketAddr::from(([127, 0, 0, 1], ports::port()))),
        rtp_port_min: 40000,
        rtp_port_max: 59998,
        max_calls: 20_000,
        rtp_timeout_secs: 0,
        strict_rtp: strict_rtp(),
        rtp_io_uring: generator_io_uring(),
        rtp_realtime: false,
        rtp_send_silence: caller_audio(),
        limit: loopback_trusted(),
        ..SipConfig::default()
    };
    struct Refuse;
    #[async_trait::async_trait]
    impl CallHandler for Refuse {
        async fn handle(&self, _channel: Channel) {}
    }
    let engine = Engine::start(config, Arc::new(Refuse))
        .await
        .expect("generator engine");
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrent));
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut calls = tokio::task::JoinSet::new();
    let first = tokio::time::Instant::now();
    for i in 0..total {
        tokio::time::sleep_until(
            first + Duration::from_secs_f64(i as f64 / f64::from(rate.max(1))),
        )
        .await;
        let slot = slots.clone().acquire_owned().await.expect("semaphore open");
        let engine = engine.clone();
        let failures = failures.clone();
        calls.spawn(async move {
            let _slot = slot;
            if place_call(&engine, target).await.is_err() {
                failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    while calls.join_next().await.is_some() {}
    let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("generator: {total} calls, {failed} failed");
    failed == 0
}

async fn place_call(engine: &Engine, target: SocketAddr) -> Result<(), String> {
    let start = tokio::time::Instant::now();
    let request = touchtone_sip::DialRequest {
        to: format!("sip:ivr@{target}"),
        caller_id: Some("5550100".into()),
        ring_timeout: Some(Duration::from_secs(10)),
    };
    let mut channel = engine
        .dial(request, None, tokio_util::sync::CancellationToken::new())
        .await
        .map_err(|e| e.to_string())?;
    for (at_ms, keys) in [(6000, "4878378#"), (15400, "2468#"), (23900, "2468#")] {
        tokio::time::sleep_until(start + Duration::from_millis(at_ms)).await;
        channel.send_digits(keys).await.map_err(|e| e.to_string())?;
    }
    tokio::time::sleep_until(start + Duration::from_millis(30400)).await;
    channel.hangup().await;
    Ok(())
}

fn main() {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--generate") {
        let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
        let target: SocketAddr = arg(2).parse().expect("target address");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let ok = runtime.block_on(generate(
            target,
            arg(3).parse().unwrap_or(100),
            arg(4).parse().unwrap_or(50),
            arg(5).parse().unwrap_or(200),
        ));
        std::process::exit(if ok { 0 } else { 1 });
    }
    let levels: Vec<u32> = std::env::var("IVR_BENCH_LEVELS")
        .unwrap_or_else(|_| "200,1000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let rate = env_or("IVR_BENCH_RATE", 50);
    let on_off = |on: bool| if on { "on" } else { "off" };
    let callers = if own_load() {
        format!(
            "own generator (io_uring {}), its callers sending {}",
            on_off(generator_io_uring()),
            if caller_audio() {
                "audio all call long"
            } else {
                "only key presses"
            }
        )
    } else {
        format!(
            "sipp (their media ports held open: {})",
            if sink() { "yes" } else { "no" }
        )
    };
    println!(
        "ivr_calls: {} cores, strict RTP {}, io_uring {}, real-time pacers {}; callers: {callers}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if strict_rtp() {
            "on (connected sockets)"
        } else {
            "off"
        },
        on_off(rtp_io_uring()),
        on_off(rtp_realtime()),
    );
    if let [level] = levels[..] {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(run_level(level, rate));
        return;
    }
    // Each level in a process of its own: a level run after another in the
    // same process measured up to 40 % more CPU (what the previous level's
    // engine left behind), so levels would not compare.
    let exe = std::env::current_exe().expect("the bench binary's path");
    for level in levels {
        let status = std::process::Command::new(&exe)
            .arg("--bench")
            .env("IVR_BENCH_LEVELS", level.to_string())
            .status()
            .expect("run a level");
        assert!(status.success(), "level {level} failed: {status}");
    }
}

/// Per-source limits with loopback trusted: the peer of each side is one
/// source carrying every call.
fn loopback_trusted() -> touchtone_sip::config::SourceLimit {
    touchtone_sip::config::SourceLimit {
        trusted: vec!["127.0.0.0/8".parse().expect("a network")],
        ..Default::default()
    }
}
