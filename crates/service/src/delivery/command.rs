//! Command sink: runs a program with the event JSON on stdin; exit status
//! 0 counts as delivered. The program runs without a shell and is killed
//! at the time limit.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::Sink;

pub struct CommandSink {
    program: PathBuf,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandSink {
    pub fn new(program: PathBuf, args: Vec<String>, timeout: Duration) -> Self {
        Self {
            program,
            args,
            timeout,
        }
    }
}

#[async_trait]
impl Sink for CommandSink {
    async fn deliver(&self, event_id: &str, event_type: &str, payload: &str) -> Result<(), String> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env("TOUCHTONE_EVENT_ID", event_id)
            .env("TOUCHTONE_EVENT_TYPE", event_type)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        let run = async {
            let _ = stdin.write_all(payload.as_bytes()).await;
            let _ = stdin.write_all(b"\n").await;
            drop(stdin);
            child.wait().await
        };
        match tokio::time::timeout(self.timeout, run).await {
            Err(_) => Err("the program did not finish in time".into()),
            Ok(Err(e)) => Err(format!("waiting for the program: {e}")),
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("the program exited with {status}")),
        }
    }
}
