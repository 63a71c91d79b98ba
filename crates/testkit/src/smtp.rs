//! A real SMTP server for one test: aiosmtpd (Debian's `python3-aiosmtpd`)
//! on a reserved loopback port, with STARTTLS required and a certificate
//! from a throw-away CA, keeping every message it accepts in a maildir.
//! It can be set up without running (a relay that is down) and stopped
//! and started again on the same port and maildir.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestCa;
use crate::ports;
use crate::programs::require;

/// Debian's interpreter, which has the package (not a pyenv one on PATH).
const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    /// The CA that signed the server's certificate (for `127.0.0.1` and
    /// `localhost`).
    pub ca_file: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    /// Offer (and require) STARTTLS.
    starttls: bool,
}

impl SmtpServer {
    /// A server, running.
    pub fn start() -> SmtpServer {
        let mut server = SmtpServer::stopped();
        server.run();
        server
    }

    /// A server set up (port, certificate, maildir) but not running yet:
    /// connections to its port are refused until [`SmtpServer::run`].
    pub fn stopped() -> SmtpServer {
        SmtpServer::set_up(true)
    }

    /// A running server that offers no STARTTLS at all (a relay a client
    /// must refuse to send through, or a downgrade by an attacker).
    pub fn start_without_tls() -> SmtpServer {
        let mut server = SmtpServer::set_up(false);
        server.run();
        server
    }

    fn set_up(starttls: bool) -> SmtpServer {
        require(PYTHON, "python3");
        let has_module = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            has_module,
            "this test needs aiosmtpd for {PYTHON} (Debian package python3-aiosmtpd); run .ci/run, which installs it, or apt-get install python3-aiosmtpd"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca = TestCa::new(dir.path());
        let (cert, key) = ca.server_cert(dir.path(), "smtp", &["localhost", "127.0.0.1"]);
        SmtpServer {
            child: None,
            port: ports::port(),
            ca_file: ca.ca_file.clone(),
            cert,
            key,
            starttls,
            dir,
        }
    }

    /// Starts the server and waits for its greeting.
    pub fn run(&mut self) {
        assert!(self.child.is_none(), "the SMTP server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("smtp.log"))
            .expect("the log");
        let mut command = Command::new(PYTHON);
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port));
        if self.starttls {
            command
                .arg("--tlscert")
                .arg(&self.cert)
                .arg("--tlskey")
                .arg(&self.key);
        }
        let child = command
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let started = Instant::now();
        while !self.greets() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("aiosmtpd exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not answer on port {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the server answers with its 220 greeting.
    fn greets(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut banner = [0u8; 3];
        stream.read_exact(&mut banner).is_ok() && &banner == b"220"
    }

    /// Stops the server (messages accepted so far stay in the maildir).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every message accepted so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir().join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
            .collect()
    }

    /// Waits until at least `count` messages have arrived; returns them.
    pub async fn wait_for_messages(&self, count: usize, limit: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                started.elapsed() < limit,
                "{} of {count} messages arrived in {limit:?}:\n{}",
                messages.len(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("smtp.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
