//! The `[smtp]` section: the mail relay reminder e-mails go through.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use touchtone_core::secret::SecretString;
use touchtone_web::mail::MailSettings;
pub use touchtone_web::mail::SmtpTls;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_tls")]
    pub tls: SmtpTls,
    /// Credentials, if the relay wants them (sent only over TLS).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Password reset <touchtone@example.com>`.
    pub from: String,
    /// PEM CA certificate(s) to trust beside the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Limit on connecting and on each SMTP command.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_port() -> u16 {
    587
}

fn default_tls() -> SmtpTls {
    SmtpTls::Starttls
}

fn default_timeout() -> u64 {
    30
}

impl SmtpConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.host.trim().is_empty() {
            bail!("smtp.host must name the mail relay");
        }
        if self.tls == SmtpTls::None && !is_loopback(&self.host) {
            bail!(
                "smtp.tls = \"none\" is only allowed for a relay on this host (localhost or a loopback address); use \"starttls\" or \"tls\""
            );
        }
        if self.username.is_some() != self.password_file.is_some() {
            bail!("smtp.username and smtp.password_file go together");
        }
        if !self.from.contains('@') {
            bail!("smtp.from must be an address, e.g. \"Password reset <touchtone@example.com>\"");
        }
        if self.timeout_secs == 0 {
            bail!("smtp.timeout_secs must be at least 1");
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// The mailer's settings, with the password read from its file and
    /// the portal's address for the links.
    pub fn mail_settings(&self, portal_url: &str) -> anyhow::Result<MailSettings> {
        let credentials = match (&self.username, self.password()?) {
            (Some(user), Some(password)) => Some((user.clone(), password)),
            _ => None,
        };
        Ok(MailSettings {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            credentials,
            from: self.from.clone(),
            ca_file: self.ca_file.clone(),
            timeout: self.timeout(),
            portal_url: portal_url.to_owned(),
        })
    }

    /// The relay password, read from its file.
    pub fn password(&self) -> anyhow::Result<Option<SecretString>> {
        self.password_file
            .as_ref()
            .map(|file| {
                std::fs::read_to_string(file)
                    .with_context(|| format!("reading smtp.password_file {}", file.display()))
                    .map(|p| SecretString::from(p.trim().to_owned()))
            })
            .transpose()
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
