//! The `[smtp]` section, the mail relay reminders and notices go through,
//! and `[notices]`, which notices people get.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use touchtone_core::secret::SecretString;
use touchtone_service::notices::{NoticeKind, NoticeSettings};
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
    pub fn mail_settings(
        &self,
        portal_url: &str,
        notices: &NoticesConfig,
    ) -> anyhow::Result<MailSettings> {
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
            time_zone: notices.time_zone.clone(),
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

/// `[notices]`: which notices people get by e-mail (through `[smtp]`;
/// without it, none).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// Of `reset`, `unlock`, `lockout`, `verify_failure`.
    pub email: Vec<String>,
    /// `en` or `de`.
    pub language: String,
    /// The IANA time zone the times are written in; empty: the system's.
    pub time_zone: String,
    /// Addresses told of every reset, unlock and lockout of a privileged
    /// person.
    pub admins: Vec<String>,
    /// Of `reset`, `unlock`, `lockout`: also a voice notification call to
    /// the person's first registered number, through the voice-OTP queue
    /// (its guard and limits); pressing 1 there locks the person.
    pub call: Vec<String>,
}

impl Default for NoticesConfig {
    fn default() -> Self {
        Self {
            email: vec!["reset".into(), "unlock".into(), "lockout".into()],
            language: "en".into(),
            time_zone: String::new(),
            admins: Vec::new(),
            call: Vec::new(),
        }
    }
}

impl NoticesConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        for kind in &self.email {
            if NoticeKind::parse(kind).is_none() {
                let known: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
                bail!("notices.email: {kind:?} is not one of {}", known.join(", "));
            }
        }
        if let Some(bad) = self
            .admins
            .iter()
            .find(|a| !touchtone_web::mail::is_address(a))
        {
            bail!("notices.admins: {bad:?} is not an e-mail address");
        }
        for kind in &self.call {
            if !matches!(
                NoticeKind::parse(kind),
                Some(
                    NoticeKind::PasswordReset
                        | NoticeKind::AccountsUnlocked
                        | NoticeKind::LockedOut
                )
            ) {
                bail!("notices.call: {kind:?} is not one of reset, unlock, lockout");
            }
        }
        if !["en", "de"].contains(&self.language.as_str()) {
            bail!("notices.language must be \"en\" or \"de\"");
        }
        if touchtone_web::mail::time_zone(&self.time_zone).is_err() {
            bail!(
                "notices.time_zone {:?} is not a time zone this system knows (e.g. \"Europe/Berlin\")",
                self.time_zone
            );
        }
        Ok(())
    }

    /// The service's settings: nothing is sent without a relay.
    pub fn settings(&self, has_relay: bool) -> NoticeSettings {
        NoticeSettings {
            email: if has_relay {
                self.email
                    .iter()
                    .filter_map(|k| NoticeKind::parse(k))
                    .collect()
            } else {
                Default::default()
            },
            language: self.language.clone(),
            admins: if has_relay {
                self.admins.clone()
            } else {
                Vec::new()
            },
            // Calls need no relay: they go through the voice-OTP queue.
            calls: self
                .call
                .iter()
                .filter_map(|k| NoticeKind::parse(k))
                .collect(),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
