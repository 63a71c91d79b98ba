//! `touchtone demo` run as a tester runs it (the binary, in a temporary
//! directory), and helpers for what SIP peers heard.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use touchtone_store::{Store, StoreOptions, local_directory};
use touchtone_testkit::baresip::Baresip;
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;

pub fn scenario(name: &str) -> String {
    let path = format!("{}/tests/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// For `ivr_keys.xml`: after the call is answered, each group's keys as
/// RFC 4733 events, the next group `pause` ms after this one started
/// (sipp sends a group's keys in the background, 240 ms a key).
pub fn key_groups(groups: &[(&str, u64)]) -> String {
    let mut xml = String::from("  <pause milliseconds=\"1500\"/>\n");
    for (keys, pause) in groups {
        xml.push_str(&format!(
            "  <nop><action><exec play_dtmf=\"{keys},120\"/></action></nop>\n  <pause milliseconds=\"{pause}\"/>\n"
        ));
    }
    xml
}

/// The reset call's keys for `ivr_keys.xml`: the keypad ID, each answer
/// (in the order asked), 1 for a reset, and 1 to accept the password once
/// it has been read twice.
pub fn reset_call(id: &str, answers: &[String]) -> String {
    let id = format!("{id}#");
    let answers: Vec<String> = answers.iter().map(|a| format!("{a}#")).collect();
    let mut groups = vec![(id.as_str(), 4420)];
    for a in &answers {
        groups.push((a.as_str(), 120 * (a.len() as u64) + 2500));
    }
    groups.push(("1", 50_240));
    groups.push(("1", 740));
    key_groups(&groups)
}

/// `touchtone demo --sip` in a temporary directory, killed when dropped.
pub struct Demo {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub sip: SocketAddr,
    pub http: SocketAddr,
}

impl Demo {
    pub async fn start() -> Demo {
        Self::start_with(tempfile::tempdir().unwrap(), &[], &[]).await
    }

    /// Starts the demo in `dir` (a restart keeps its database) with more
    /// arguments and environment variables (`TOUCHTONE_OTP__LEASE_SECS`).
    pub async fn start_with(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Demo {
        // Reserved ports can still be taken by a program outside the
        // tests; a demo that exits before it is up is tried on others.
        let mut dir = dir;
        for attempt in 1.. {
            match Self::launch(dir, args, env).await {
                Ok(demo) => return demo,
                Err((returned, log)) if attempt < 5 => {
                    eprintln!("the demo did not start (attempt {attempt}); other ports:\n{log}");
                    dir = returned;
                }
                Err((_, log)) => panic!("the demo did not start in {attempt} attempts:\n{log}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// One start on fresh ports: the demo once `demo.json` is written, or
    /// its directory and log when it exits first.
    async fn launch(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Demo, (tempfile::TempDir, String)> {
        let sip = SocketAddr::from(([127, 0, 0, 1], ports::port()));
        let http = SocketAddr::from(([127, 0, 0, 1], ports::port()));
        let _ = std::fs::remove_file(dir.path().join("demo.json"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("demo.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_touchtone"))
            .args(["demo", "--data-dir"])
            .arg(dir.path())
            .args(["--http", &http.to_string(), "--sip", &sip.to_string()])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start touchtone demo");
        let mut demo = Demo {
            child,
            dir,
            sip,
            http,
        };
        let started = Instant::now();
        while !demo.dir.path().join("demo.json").exists() {
            if let Ok(Some(status)) = demo.child.try_wait() {
                let log = format!("exited with {status}\n{}", demo.log());
                return Err((demo.kill(), log));
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the demo did not start: {}",
                demo.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let document: Value = serde_json::from_str(
            &std::fs::read_to_string(demo.dir.path().join("demo.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(document["sip"], format!("sip:reset@{sip}"));
        Ok(demo)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("demo.log")).unwrap_or_default()
    }

    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub async fn wait_for_event(&self, event_type: &str, user: &str) -> Value {
        let started = Instant::now();
        loop {
            if let Some(e) = self
                .events()
                .into_iter()
                .find(|e| e["type"] == event_type && e["user_id"] == user)
            {
                return e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no {event_type} for {user}: {:?}\n{}",
                self.events(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Rows in `table` of the demo's database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let store = self.store().await;
        let mut conn = store.acquire().await.unwrap();
        let row: (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        row.0
    }

    /// Resident memory (bytes) and open files of the demo process.
    pub fn footprint(&self) -> (u64, usize) {
        let pid = self.child.id();
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024);
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
        (rss, fds)
    }

    async fn store(&self) -> Store {
        let url = format!(
            "sqlite://{}",
            self.dir.path().join("touchtone.db").display()
        );
        let options = StoreOptions {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
        };
        Store::connect(&url, &options).await.unwrap()
    }

    /// The local account's password hash, read from the demo's database.
    pub async fn password_hash(&self, account: &str) -> Option<String> {
        let store = self.store().await;
        let mut conn = store.acquire().await.unwrap();
        local_directory::get(&mut conn, account)
            .await
            .unwrap()
            .and_then(|a| a.password_hash)
    }
}

impl Demo {
    /// Kills the demo (SIGKILL: no graceful shutdown) and returns its
    /// directory for a restart.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn assert_sipp_ok(sipp: Sipp, limit: Duration, context: &str) {
    let outcome = sipp.finish(limit).await;
    assert!(outcome.success, "sipp failed:\n{}\n{context}", outcome.log);
}

/// The recording of baresip's call, once the call has ended (baresip
/// closes the file then).
pub async fn wait_for_recording(phone: &Baresip) -> PathBuf {
    let started = Instant::now();
    loop {
        if let Some(p) = phone.recordings().into_iter().next() {
            phone.wait_until_idle(Duration::from_secs(60)).await;
            return p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "baresip recorded nothing"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Length of the recording, and how much of it is louder than silence.
pub fn loud_seconds(path: &Path) -> (f64, f64) {
    let reader = hound::WavReader::open(path).expect("baresip's recording");
    let rate = f64::from(reader.spec().sample_rate);
    let samples: Vec<i16> = reader
        .into_samples::<i16>()
        .map(|s| s.unwrap_or(0))
        .collect();
    let loud = samples
        .chunks(160)
        .filter(|c| c.iter().any(|s| s.unsigned_abs() > 1500))
        .count();
    (samples.len() as f64 / rate, loud as f64 * 160.0 / rate)
}
