//! What an idle node costs: `touchtone demo --sip` (the release binary, as
//! an operator runs it) with no calls and no requests, measured from
//! `/proc/PID/stat` (user + system time of every thread) after it is ready
//! and has settled. Prints CPU-seconds per minute, the busiest threads and
//! the resident memory.
//!
//! Run: `cargo bench -p touchtone-server --bench idle` (`-- --secs N`,
//! the measuring window, default 120).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc` times (Linux: 100).
const CLK_TCK: f64 = 100.0;

/// `(utime + stime)` ticks of a `/proc/.../stat` line.
fn ticks(stat: &str) -> u64 {
    // The command name may hold spaces; the fields after its `)` are fixed.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After ")": state is field 3 of stat, so utime (14) is index 11.
    field(11) + field(12)
}

/// Ticks per thread name (threads of one name summed).
fn threads(pid: u32) -> HashMap<String, u64> {
    let mut by_name = HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        *by_name.entry(name.trim().to_owned()).or_insert(0) += ticks(&stat);
    }
    by_name
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let http = touchtone_testkit::ports::port();
    let sip = touchtone_testkit::ports::port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_touchtone"))
        .args(["demo", "--data-dir"])
        .arg(dir.path())
        .args(["--http", &format!("127.0.0.1:{http}")])
        .args(["--sip", &format!("127.0.0.1:{sip}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting touchtone demo");
    let pid = child.id();

    // Ready: /readyz answers 200 (database up, SIP engine up).
    touchtone_server::tls::install_crypto_provider();
    let started = Instant::now();
    let client = loop {
        let cert = std::fs::read(dir.path().join("tls/cert.pem"));
        if let Ok(cert) = cert
            && let Ok(cert) = reqwest::Certificate::from_pem(&cert)
        {
            let client = reqwest::Client::builder()
                .add_root_certificate(cert)
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a client");
            let ready = client
                .get(format!("https://localhost:{http}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break client;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the demo never became ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(client);
    // Let start-up work (seeding, hashing) finish.
    tokio::time::sleep(Duration::from_secs(10)).await;

    let before = threads(pid);
    let rss_before = rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let after = threads(pid);
    let rss_after = rss_kib(pid);
    let _ = child.kill();
    let _ = child.wait();

    let mut used: Vec<(String, u64)> = after
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                t.saturating_sub(*before.get(name).unwrap_or(&0)),
            )
        })
        .collect();
    used.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    let total: u64 = used.iter().map(|(_, t)| t).sum();
    let per_minute = total as f64 / CLK_TCK * 60.0 / secs as f64;
    println!("idle node (touchtone demo --sip), {secs} s after it was ready and settled:");
    println!("  CPU: {per_minute:.3} CPU-seconds a minute ({total} ticks of 10 ms)");
    for (name, t) in used.iter().filter(|(_, t)| *t > 0).take(6) {
        println!(
            "    {name}: {:.3} CPU-s/min",
            *t as f64 / CLK_TCK * 60.0 / secs as f64
        );
    }
    println!(
        "  resident memory: {} MiB at the start of the window, {} MiB at its end",
        rss_before / 1024,
        rss_after / 1024
    );
}
