//! `baresip` as a softphone under test control: it auto-answers calls to
//! its account, records what it hears (module `sndfile`: `dump-*-dec.wav`
//! in its directory), plays a WAV file as its microphone, and takes
//! commands (`dial`, `sndcode`, `hangup`) over `ctrl_tcp` as netstrings.

use crate::ports;
use crate::programs::require;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub struct Baresip {
    child: Child,
    dir: TempDir,
    pub user: String,
    pub sip_port: u16,
    ctrl_port: u16,
}

impl Baresip {
    /// Starts baresip with account `user`, sending `microphone` (an 8 kHz
    /// WAV; silence when `None`) as its audio.
    pub async fn start(user: &str, microphone: Option<&[u8]>) -> Baresip {
        Self::launch(user, microphone, None).await
    }

    /// As `start`, trusting the CA in `ca_file` for SIP over TLS.
    pub async fn start_trusting(
        user: &str,
        microphone: Option<&[u8]>,
        ca_file: &std::path::Path,
    ) -> Baresip {
        Self::launch(user, microphone, Some(ca_file)).await
    }

    async fn launch(
        user: &str,
        microphone: Option<&[u8]>,
        ca_file: Option<&std::path::Path>,
    ) -> Baresip {
        require("baresip", "baresip");
        let dir = tempfile::tempdir().expect("temp dir for baresip");
        // baresip also binds sip_port + 1 for TLS: reserve both.
        let sip_port = ports::port_block(2);
        let ctrl_port = ports::port();
        let wav = dir.path().join("microphone.wav");
        std::fs::write(
            &wav,
            microphone
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| silent_wav(60)),
        )
        .expect("write the microphone file");
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{sip_port}\n\
             call_local_timeout 120\n\
             audio_player aubridge,nil\n\
             audio_source aufile,{wav}\n\
             audio_alert aubridge,nil\n\
             snd_path {dir}\n\
             rtp_ports 40000-40998\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\n\
             module aufile.so\n\
             module aubridge.so\n\
             module sndfile.so\n\
             module_tmp account.so\n\
             module_app menu.so\n\
             module_app ctrl_tcp.so\n\
             ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n\
             {cafile}",
            wav = wav.display(),
            dir = dir.path().display(),
            cafile = ca_file
                .map(|f| format!("sip_cafile {}\n", f.display()))
                .unwrap_or_default(),
        );
        std::fs::write(dir.path().join("config"), config).expect("write baresip config");
        std::fs::write(
            dir.path().join("accounts"),
            format!("<sip:{user}@127.0.0.1:{sip_port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"),
        )
        .expect("write baresip accounts");
        std::fs::write(dir.path().join("contacts"), "").expect("write baresip contacts");
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start baresip");
        let me = Baresip {
            child,
            dir,
            user: user.to_string(),
            sip_port,
            ctrl_port,
        };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", ctrl_port)).await.is_ok() {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("baresip did not open its control port");
    }

    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.sip_port))
    }

    /// Sends one ctrl_tcp command and returns its response (the JSON body
    /// of the netstring; events baresip broadcasts meanwhile are skipped).
    pub async fn command(&self, command: &str, params: &str) -> String {
        let body =
            serde_json::json!({"command": command, "params": params, "token": "t"}).to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.ctrl_port))
            .await
            .expect("connect to baresip ctrl_tcp");
        stream
            .write_all(format!("{}:{},", body.len(), body).as_bytes())
            .await
            .expect("send a baresip command");
        let read = async {
            let mut received: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 4096];
            loop {
                // Netstrings: LEN ':' BODY ','.
                while let Some(colon) = received.iter().position(|&b| b == b':') {
                    let Some(len) = std::str::from_utf8(&received[..colon])
                        .ok()
                        .and_then(|l| l.parse::<usize>().ok())
                    else {
                        return String::new();
                    };
                    if received.len() < colon + 1 + len + 1 {
                        break;
                    }
                    let message =
                        String::from_utf8_lossy(&received[colon + 1..colon + 1 + len]).into_owned();
                    received.drain(..colon + 1 + len + 1);
                    if message.contains("\"response\":true") {
                        return message;
                    }
                }
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return String::new(),
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .unwrap_or_default()
    }

    /// The states of baresip's calls (`ESTABLISHED`, `RINGING`, …), from
    /// its `listcalls` command.
    pub async fn call_states(&self) -> Vec<String> {
        let response = self.command("listcalls", "").await;
        let data = serde_json::from_str::<serde_json::Value>(&response)
            .ok()
            .and_then(|v| v["data"].as_str().map(str::to_owned))
            .unwrap_or_default();
        // "> [line 1]  0:00:02  ESTABLISHED  sip:…" (">" marks the
        // current call): the state follows the duration.
        data.lines()
            .filter(|l| l.contains("[line"))
            .filter_map(|l| l.split_once(']'))
            .filter_map(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned))
            .collect()
    }

    /// Waits (up to `limit`) until a call is established: keys sent
    /// before that would be lost.
    pub async fn wait_for_established(&self, limit: Duration) {
        let started = std::time::Instant::now();
        while !self.call_states().await.iter().any(|s| s == "ESTABLISHED") {
            assert!(
                started.elapsed() < limit,
                "baresip's call was not established within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (up to `limit`) until baresip has no call left, so the call's
    /// recording is complete.
    pub async fn wait_until_idle(&self, limit: Duration) {
        let started = std::time::Instant::now();
        while !self.call_states().await.is_empty() {
            assert!(
                started.elapsed() < limit,
                "baresip still has a call after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Decoded audio baresip received, one file per call.
    pub fn recordings(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    pub async fn stop(&mut self) {
        let _ = self.command("quit", "").await;
        if tokio::time::timeout(Duration::from_secs(3), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// A WAV file of silence, 8 kHz mono 16-bit.
pub fn silent_wav(seconds: u32) -> Vec<u8> {
    wav_from_samples(&vec![0i16; (seconds * 8000) as usize])
}

/// Wraps 8 kHz mono samples in a WAV header.
pub fn wav_from_samples(samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}
