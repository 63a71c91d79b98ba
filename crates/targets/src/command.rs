//! The command target: a configured program does the work, for systems
//! touchtone has no built-in target for (a mainframe script, an HR tool).
//!
//! The program is started once per account with no shell, receives one
//! JSON request on stdin and must print one JSON result on stdout before
//! the time limit, after which it is killed:
//!
//! ```text
//! stdin:  {"operation":"set_password","target":"hr","account":"jsmith","password":"…","must_change":false}
//!         {"operation":"unlock","target":"hr","account":"jsmith"}
//! stdout: {"ok":true}                                  (unlock may add "outcome":"not_locked")
//!         {"ok":false,"error":"policy_rejected","message":"too short"}
//! ```
//!
//! `error` is one of `no_such_account`, `account_disabled`,
//! `policy_rejected` or anything else (reported as a failure). The password
//! travels only on stdin, never on the command line or in the environment.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::{ExposeSecret, SecretString};

use crate::{ResetOptions, Target, TargetError, UnlockOutcome};

/// The most output read from the program; more is an error.
const MAX_OUTPUT_BYTES: usize = 64 * 1024;

pub struct CommandTarget {
    name: String,
    policy: PasswordPolicy,
    program: PathBuf,
    args: Vec<String>,
    timeout: Duration,
}

#[derive(Debug, Deserialize)]
struct CommandResult {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

impl CommandTarget {
    pub fn new(
        name: impl Into<String>,
        policy: PasswordPolicy,
        program: PathBuf,
        args: Vec<String>,
        timeout: Duration,
    ) -> Self {
        Self {
            name: name.into(),
            policy,
            program,
            args,
            timeout,
        }
    }

    async fn run(&self, request: serde_json::Value) -> Result<CommandResult, TargetError> {
        let mut child = self.spawn().await?;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        let mut stdout = child.stdout.take().expect("stdout was piped");
        let mut stderr = child.stderr.take().expect("stderr was piped");
        let body = request.to_string();
        let exchange = async {
            // A program that exits without reading stdin is not an error
            // in itself; its output says what happened.
            let _ = stdin.write_all(body.as_bytes()).await;
            drop(stdin);
            let mut out = Vec::new();
            let mut err = Vec::new();
            let mut limited_out = (&mut stdout).take(MAX_OUTPUT_BYTES as u64 + 1);
            let mut limited_err = (&mut stderr).take(MAX_OUTPUT_BYTES as u64);
            let (read_out, _) = tokio::join!(
                limited_out.read_to_end(&mut out),
                limited_err.read_to_end(&mut err)
            );
            read_out
                .map_err(|e| TargetError::Failed(format!("reading the program's output: {e}")))?;
            let status = child
                .wait()
                .await
                .map_err(|e| TargetError::Failed(e.to_string()))?;
            Ok::<_, TargetError>((status, out, err))
        };
        let (status, out, err) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| TargetError::Timeout)??;
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(TargetError::Failed("the program printed too much".into()));
        }
        if !err.is_empty() {
            tracing::debug!(target_name = %self.name, stderr_bytes = err.len(), "command target wrote to stderr");
        }
        match serde_json::from_slice::<CommandResult>(&out) {
            Ok(result) => Ok(result),
            Err(_) if !status.success() => Err(TargetError::Failed(format!(
                "the program exited with {status}"
            ))),
            Err(e) => Err(TargetError::Failed(format!(
                "the program's output is not a JSON result: {e}"
            ))),
        }
    }
}

impl CommandTarget {
    /// Starts the program. "Text file busy" (the program is being written
    /// — an operator replacing it, or another thread's fork holding a
    /// just-written file open) is retried briefly before it is an error.
    async fn spawn(&self) -> Result<tokio::process::Child, TargetError> {
        let mut attempt = 0;
        loop {
            let spawned = tokio::process::Command::new(&self.program)
                .args(&self.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn();
            match spawned {
                Ok(child) => return Ok(child),
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => {
                    return Err(TargetError::Unavailable(format!(
                        "cannot start {}: {e}",
                        self.program.display()
                    )));
                }
            }
        }
    }
}

fn result_error(result: CommandResult) -> TargetError {
    let message = result.message.unwrap_or_default();
    match result.error.as_deref() {
        Some("no_such_account") => TargetError::NoSuchAccount,
        Some("account_disabled") => TargetError::AccountDisabled,
        Some("policy_rejected") => TargetError::PolicyRejected(message),
        Some(other) if message.is_empty() => TargetError::Failed(other.to_owned()),
        _ => TargetError::Failed(message),
    }
}

#[async_trait]
impl Target for CommandTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    async fn set_password(
        &self,
        account: &str,
        password: &SecretString,
        options: ResetOptions,
    ) -> Result<(), TargetError> {
        let result = self
            .run(serde_json::json!({
                "operation": "set_password",
                "target": self.name,
                "account": account,
                "password": password.expose_secret(),
                "must_change": options.must_change,
            }))
            .await?;
        if result.ok {
            Ok(())
        } else {
            Err(result_error(result))
        }
    }

    async fn unlock(&self, account: &str) -> Result<UnlockOutcome, TargetError> {
        let result = self
            .run(
                serde_json::json!({"operation": "unlock", "target": self.name, "account": account}),
            )
            .await?;
        if !result.ok {
            return Err(result_error(result));
        }
        Ok(match result.outcome.as_deref() {
            Some("not_locked") => UnlockOutcome::WasNotLocked,
            _ => UnlockOutcome::Unlocked,
        })
    }
}
