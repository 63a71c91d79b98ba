//! `sipp` (Debian `sip-tester`) as a caller or callee, running one scenario
//! from a temporary directory. Its message trace is kept there and printed
//! when a run fails, so a failing test shows the SIP that was exchanged.

use crate::ports;
use crate::programs::require;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub struct Sipp {
    child: Child,
    dir: TempDir,
    /// The UDP port sipp's SIP socket is bound to.
    pub port: u16,
    /// The first port of sipp's media range.
    pub media_port: u16,
}

/// How a sipp run ended.
pub struct SippOutcome {
    pub success: bool,
    pub log: String,
}

impl Sipp {
    /// Starts sipp running `scenario` (XML text). `target` is where a
    /// caller scenario sends its INVITE; `None` runs sipp as a callee
    /// waiting on `self.port`. `files` are written beside the scenario
    /// (audio for `rtp_stream`, for example).
    pub fn start(
        scenario: &str,
        target: Option<SocketAddr>,
        calls: u32,
        extra: &[&str],
        files: &[(&str, &[u8])],
    ) -> Sipp {
        Self::start_on(ports::port(), scenario, target, calls, extra, files)
    }

    /// As [`Sipp::start`], on a SIP port reserved earlier (a callee the
    /// server under test was told about before sipp started).
    pub fn start_on(
        port: u16,
        scenario: &str,
        target: Option<SocketAddr>,
        calls: u32,
        extra: &[&str],
        files: &[(&str, &[u8])],
    ) -> Sipp {
        require("sipp", "sip-tester");
        let dir = tempfile::tempdir().expect("temp dir for sipp");
        let path = dir.path().join("scenario.xml");
        std::fs::write(&path, scenario).expect("write the sipp scenario");
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).expect("write a sipp input file");
        }
        // sipp's [auto_media_port] is -mp + (4 · call number) mod 10000:
        // reserve room for all of them. (Past 65535 sipp writes an invalid
        // port and the call gets 488; the reserved window is far below.)
        let room = 4 * calls.min(2500) + 4;
        let media_port = ports::port_block(u16::try_from(room).unwrap_or(10_004));
        let mut cmd = Command::new("sipp");
        if let Some(t) = target {
            cmd.arg(t.to_string());
        }
        cmd.current_dir(dir.path())
            .arg("-sf")
            .arg(&path)
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-mp",
                &media_port.to_string(),
            ])
            .args([
                "-m",
                &calls.to_string(),
                "-nostdin",
                "-trace_msg",
                "-trace_err",
            ])
            .args(["-message_file", "messages.log", "-error_file", "errors.log"])
            .args(extra);
        Self::spawn(cmd, dir, port, media_port)
    }

    /// sipp as a load generator: `scenario` from the loopback address
    /// `local` (so the server sees a source of its own), `calls` calls at
    /// `rate` a second, with no message trace (a flood's would fill the
    /// disk); the scenario's `<log>` actions go to [`Sipp::logged`].
    pub fn load(
        scenario: &str,
        local: std::net::Ipv4Addr,
        target: SocketAddr,
        calls: u32,
        rate: u32,
        extra: &[&str],
    ) -> Sipp {
        require("sipp", "sip-tester");
        let dir = tempfile::tempdir().expect("temp dir for sipp");
        let path = dir.path().join("scenario.xml");
        std::fs::write(&path, scenario).expect("write the sipp scenario");
        let port = ports::port();
        let media_port = ports::port();
        let mut cmd = Command::new("sipp");
        cmd.arg(target.to_string())
            .current_dir(dir.path())
            .arg("-sf")
            .arg(&path)
            .args(["-i", &local.to_string(), "-p", &port.to_string()])
            .args(["-mp", &media_port.to_string()])
            .args(["-m", &calls.to_string(), "-r", &rate.to_string()])
            .args(["-nostdin", "-trace_logs", "-log_file", "logs.log"])
            .args(["-trace_err", "-error_file", "errors.log"])
            .args(extra);
        Self::spawn(cmd, dir, port, media_port)
    }

    fn spawn(mut cmd: Command, dir: TempDir, port: u16, media_port: u16) -> Sipp {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("start sipp");
        Sipp {
            child,
            dir,
            port,
            media_port,
        }
    }

    /// How many lines of the scenario's `<log>` output hold `message`.
    pub fn logged(&self, message: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join("logs.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(message))
            .count()
    }

    /// sipp's process ID while it runs (for measuring its CPU).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Waits for sipp to finish (killing it after `limit`).
    pub async fn finish(mut self, limit: Duration) -> SippOutcome {
        let status = tokio::time::timeout(limit, self.child.wait()).await;
        let success = matches!(&status, Ok(Ok(s)) if s.success());
        if status.is_err() {
            let _ = self.child.kill().await;
        }
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ =
                tokio::time::timeout(Duration::from_secs(1), e.read_to_string(&mut stderr)).await;
        }
        let log = format!(
            "sipp {}\n--- stderr\n{stderr}\n--- errors\n{}\n--- messages\n{}",
            match status {
                Ok(Ok(s)) => format!("exited with {s}"),
                Ok(Err(e)) => format!("wait failed: {e}"),
                Err(_) => format!("killed after {limit:?}"),
            },
            read("errors.log"),
            read("messages.log"),
        );
        SippOutcome { success, log }
    }
}
