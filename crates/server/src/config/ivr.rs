//! The `[ivr]` section: the reset call on the SIP listener of `[sip]`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use touchtone_core::secret::SecretString;
use touchtone_ivr::PromptSet;
use touchtone_ivr::backend::{InProcess, Remote, RemoteSettings};
use touchtone_ivr::tts::Tts;
use touchtone_ivr::{Backend, FlowSettings, Voice};
use touchtone_service::Service;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IvrConfig {
    /// Prompt language: `en` or `de` ship with the server.
    pub language: String,
    /// Operator recordings: `NAME.wav` (any common rate) replaces the
    /// prompt NAME; `question-ID.wav` is read instead of question ID's text.
    pub prompt_dir: Option<PathBuf>,
    /// Speak free text (questions, names) with espeak-ng when installed.
    pub tts: bool,
    /// espeak-ng voice; by default the language's (`en-us`, `de`).
    pub tts_voice: Option<String>,
    /// Where synthesised speech is kept between runs.
    pub tts_cache_dir: Option<PathBuf>,
    /// Request-URI user parts that reach the reset call; empty: any.
    pub numbers: Vec<String>,
    /// SIP URI that "0" and giving up transfer to (REFER).
    pub helpdesk_uri: Option<String>,
    /// Transfer to the helpdesk when the caller runs out of tries.
    pub transfer_on_failure: bool,
    pub id_attempts: u32,
    pub menu_attempts: u32,
    /// New passwords a caller may ask for in one call.
    pub max_passwords: u32,
    pub first_digit_timeout_secs: u64,
    pub inter_digit_timeout_secs: u64,
    pub max_call_secs: u64,
    /// `in_process` (this server's service) or `remote` (a touchtone
    /// server's HTTPS API, for an IVR at another site).
    pub backend: IvrBackendKind,
    pub remote: Option<RemoteBackendConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IvrBackendKind {
    InProcess,
    Remote,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteBackendConfig {
    /// e.g. `https://touchtone.example.com:8443/api/v1`
    pub url: String,
    pub api_user: String,
    /// File holding the API user's password (first line).
    pub password_file: PathBuf,
    /// CA certificate(s) to trust; the system's roots otherwise.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_remote_timeout")]
    pub timeout_secs: u64,
}

fn default_remote_timeout() -> u64 {
    30
}

impl Default for IvrConfig {
    fn default() -> Self {
        let flow = FlowSettings::default();
        IvrConfig {
            language: "en".into(),
            prompt_dir: None,
            tts: true,
            tts_voice: None,
            tts_cache_dir: None,
            numbers: Vec::new(),
            helpdesk_uri: None,
            transfer_on_failure: flow.transfer_on_failure,
            id_attempts: flow.id_attempts,
            menu_attempts: flow.menu_attempts,
            max_passwords: flow.max_passwords,
            first_digit_timeout_secs: flow.first_digit_timeout.as_secs(),
            inter_digit_timeout_secs: flow.inter_digit_timeout.as_secs(),
            max_call_secs: flow.max_call.as_secs(),
            backend: IvrBackendKind::InProcess,
            remote: None,
        }
    }
}

impl IvrConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        PromptSet::embedded(&self.language).map_err(|_| {
            anyhow::anyhow!(
                "ivr.language: no prompts for {:?} (en and de ship with touchtone)",
                self.language
            )
        })?;
        if let Some(uri) = &self.helpdesk_uri
            && !(uri.starts_with("sip:") || uri.starts_with("sips:"))
        {
            bail!("ivr.helpdesk_uri must be a sip: or sips: URI, not {uri:?}");
        }
        if self.id_attempts == 0 || self.menu_attempts == 0 || self.max_passwords == 0 {
            bail!("ivr: id_attempts, menu_attempts and max_passwords must be at least 1");
        }
        if self.first_digit_timeout_secs == 0
            || self.inter_digit_timeout_secs == 0
            || self.max_call_secs == 0
        {
            bail!("ivr: timeouts must be longer than zero");
        }
        match (self.backend, &self.remote) {
            (IvrBackendKind::Remote, None) => {
                bail!(
                    "ivr.backend = \"remote\" needs [ivr.remote] with url, api_user and password_file"
                )
            }
            (IvrBackendKind::Remote, Some(r)) if !r.url.starts_with("https://") => {
                bail!("ivr.remote.url must be an https:// URL")
            }
            _ => Ok(()),
        }
    }

    pub fn flow_settings(&self) -> FlowSettings {
        FlowSettings {
            id_attempts: self.id_attempts,
            menu_attempts: self.menu_attempts,
            max_passwords: self.max_passwords,
            helpdesk_uri: self.helpdesk_uri.clone(),
            transfer_on_failure: self.transfer_on_failure,
            first_digit_timeout: Duration::from_secs(self.first_digit_timeout_secs),
            inter_digit_timeout: Duration::from_secs(self.inter_digit_timeout_secs),
            max_call: Duration::from_secs(self.max_call_secs),
        }
    }

    /// The prompts (with the operator's recordings) and the synthesiser.
    pub fn voice(&self) -> anyhow::Result<Voice> {
        self.voice_for(&self.language)
    }

    /// The voice of `language`; the operator's recordings in `prompt_dir`
    /// belong to the configured language and are used only for it.
    pub fn voice_for(&self, language: &str) -> anyhow::Result<Voice> {
        let mut prompts = PromptSet::embedded(language)?;
        if let Some(dir) = self
            .prompt_dir
            .as_ref()
            .filter(|_| language == self.language)
        {
            prompts = prompts
                .with_overrides(dir)
                .with_context(|| format!("ivr.prompt_dir {}", dir.display()))?;
        }
        let tts = if self.tts {
            let voice = self
                .tts_voice
                .clone()
                .filter(|_| language == self.language)
                .unwrap_or_else(|| match language {
                    "en" => "en-us".to_owned(),
                    other => other.to_owned(),
                });
            let found = Tts::detect(&voice, self.tts_cache_dir.clone());
            if found.is_none() {
                tracing::warn!(
                    "espeak-ng is not installed: questions and names will be spelled (install espeak-ng, or record question-ID.wav prompts)"
                );
            }
            found
        } else {
            None
        };
        Ok(Voice::new(prompts, tts))
    }

    pub fn backend(&self, service: &Service) -> anyhow::Result<Arc<dyn Backend>> {
        Ok(match (self.backend, &self.remote) {
            (IvrBackendKind::Remote, Some(r)) => {
                let password = std::fs::read_to_string(&r.password_file).with_context(|| {
                    format!(
                        "reading ivr.remote.password_file {}",
                        r.password_file.display()
                    )
                })?;
                let password = password.lines().next().unwrap_or("").to_owned();
                Arc::new(
                    Remote::new(RemoteSettings {
                        base_url: r.url.clone(),
                        api_user: r.api_user.clone(),
                        api_password: SecretString::from(password),
                        ca_file: r.ca_file.clone(),
                        timeout: Duration::from_secs(r.timeout_secs.max(1)),
                    })
                    .map_err(|e| anyhow::anyhow!("ivr.remote: {e}"))?,
                )
            }
            _ => Arc::new(InProcess::new(service.clone())),
        })
    }
}
