//! `touchtone otp call NUMBER CODE`: places a voice-OTP call through a
//! running server's `/api/v1/calls` and prints each status as it changes,
//! until the call ends. Exits 0 when the code was played or verified.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

#[derive(Debug, clap::Subcommand)]
pub enum OtpCommand {
    /// Call NUMBER and speak CODE (or, with --verify, ask for it).
    Call(CallArgs),
}

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// E.164 (`+923001234567`) or national form in the server's region.
    pub number: String,
    /// Digits, up to 20.
    pub code: String,
    /// The server's address.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub server: String,
    /// A CA certificate (PEM) to trust for the server, e.g. the demo's
    /// `tls/cert.pem`.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The API user.
    #[arg(long, env = "TOUCHTONE_API_USER", default_value = "demo")]
    pub user: String,
    /// A file holding the API user's password (first line); else the
    /// environment variable TOUCHTONE_API_PASSWORD.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Ask the callee to key the code in instead of reading it.
    #[arg(long)]
    pub verify: bool,
    #[arg(long)]
    pub language: Option<String>,
    /// Readings of the code per playing.
    #[arg(long)]
    pub repeat: Option<u32>,
    /// Give up watching after this many seconds (the call goes on).
    #[arg(long, default_value_t = 300)]
    pub watch_secs: u64,
}

pub async fn run(command: OtpCommand) -> anyhow::Result<()> {
    match command {
        OtpCommand::Call(args) => call(args).await,
    }
}

fn password(args: &CallArgs) -> anyhow::Result<String> {
    if let Some(file) = &args.password_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.lines().next().unwrap_or("").to_owned());
    }
    match std::env::var("TOUCHTONE_API_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ if args.user == crate::demo::DEMO_API_USER => Ok(crate::demo::DEMO_API_PASSWORD.into()),
        _ => bail!("give --password-file or set TOUCHTONE_API_PASSWORD"),
    }
}

async fn call(args: CallArgs) -> anyhow::Result<()> {
    crate::tls::install_crypto_provider();
    let password = password(&args)?;
    let mut client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30));
    if let Some(ca) = &args.ca {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        client = client.add_root_certificate(
            reqwest::Certificate::from_pem(&pem)
                .context("the --ca file is not a PEM certificate")?,
        );
    }
    let client = client.build().context("building the HTTPS client")?;
    let base = format!("{}/api/v1/calls", args.server.trim_end_matches('/'));
    let mut body = json!({
        "to": args.number,
        "code": args.code,
        "mode": if args.verify { "verify" } else { "speak" },
    });
    if let Some(language) = &args.language {
        body["language"] = json!(language);
    }
    if let Some(repeat) = args.repeat {
        body["repeat"] = json!(repeat);
    }
    // A POST that got no answer is sent again with the same key: the
    // server places the call once however often it arrives.
    let key = uuid_like();
    let mut tries = 0;
    let response = loop {
        tries += 1;
        let sent = client
            .post(&base)
            .basic_auth(&args.user, Some(&password))
            .header("idempotency-key", &key)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(response) => break response,
            Err(e) if tries < 3 && (e.is_timeout() || e.is_connect()) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).context("the server did not answer"),
        }
    };
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if status != reqwest::StatusCode::ACCEPTED {
        let message = answer["error"]["message"].as_str().unwrap_or("no details");
        bail!("the server refused the call ({status}): {message}");
    }
    let id = answer["call_id"]
        .as_str()
        .context("the server's answer has no call_id")?
        .to_owned();
    println!("call {id} queued");
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.watch_secs);
    loop {
        let view: Value = client
            .get(format!("{base}/{id}"))
            .basic_auth(&args.user, Some(&password))
            .send()
            .await
            .context("the server did not answer")?
            .json()
            .await
            .context("the server's answer is not JSON")?;
        let history = view["history"].as_array().cloned().unwrap_or_default();
        for item in history.iter().skip(seen) {
            println!(
                "{}  {}{}",
                item["at"],
                item["status"].as_str().unwrap_or("?"),
                item.get("detail")
                    .filter(|d| !d.is_null())
                    .map(|d| format!("  {d}"))
                    .unwrap_or_default()
            );
        }
        seen = history.len();
        if view["final"].as_bool() == Some(true) {
            let record = &view["record"];
            println!(
                "ended {}: SIP {}, rang {} ms, talked {} ms, code played {} times, code {}",
                view["status"].as_str().unwrap_or("?"),
                record["sip_status"],
                record["ring_ms"],
                record["talk_ms"],
                record["code_played"],
                record["code"].as_str().unwrap_or("?"),
            );
            return match view["status"].as_str() {
                Some("code-played" | "verified") => Ok(()),
                other => bail!("the call ended {}", other.unwrap_or("?")),
            };
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("still {} after {} s", view["status"], args.watch_secs);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A random idempotency key.
fn uuid_like() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
