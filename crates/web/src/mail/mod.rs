//! E-mails, the portal's other voice: reminders to enrol ([`reminder`])
//! and notices of what happened to a person's accounts ([`notice`]),
//! written in the message's language from the same Fluent files as the
//! pages (`locales/LANG/mail.ftl`) with plain-text templates
//! (`templates/mail/`), and sent over SMTP with lettre. The service
//! decides who gets one and when and queues it in the outbox; the sinks
//! here deliver it, so a relay that is down is retried with back-off and a
//! restart loses nothing.
//!
//! Each message's `Message-ID` is derived from its outbox item, so a retry
//! after a relay accepted the message but the acknowledgement was lost is
//! recognisable as the same message. `Auto-Submitted: auto-generated`
//! (RFC 3834) keeps auto-responders from answering.

pub mod notice;
pub mod reminder;

use std::path::PathBuf;
use std::time::Duration;

use jiff::tz::TimeZone;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use touchtone_core::secret::{ExposeSecret, SecretString};

pub use notice::NoticeMailer;
pub use reminder::ReminderMailer;

/// Whether `text` is an e-mail address a message can be sent to.
pub fn is_address(text: &str) -> bool {
    text.parse::<lettre::Address>().is_ok()
}

/// The time zone named `name` (IANA, e.g. `Europe/Berlin`), or the
/// system's for an empty name: where the times people are told are written.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    if name.is_empty() {
        Ok(TimeZone::system())
    } else {
        TimeZone::get(name).map_err(|e| format!("the time zone {name:?}: {e}"))
    }
}

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// A plain connection upgraded with STARTTLS, which must succeed.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption (a relay on this host only; the configuration
    /// refuses it for any other).
    None,
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub credentials: Option<(String, SecretString)>,
    /// The sender, `Name <address>`.
    pub from: String,
    /// PEM CA certificate(s) trusted beside the system's.
    pub ca_file: Option<PathBuf>,
    /// Limit on connecting and on each SMTP command.
    pub timeout: Duration,
    /// The portal's address, linked from every message.
    pub portal_url: String,
    /// The IANA time zone times are written in (`Europe/Berlin`); empty:
    /// the system's.
    pub time_zone: String,
}

/// The relay connection and what every message shares.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    portal_url: String,
    time_zone: TimeZone,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("smtp.from {:?}: {e}", settings.from))?;
        let time_zone = time_zone(&settings.time_zone)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(settings.timeout));
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(settings)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        builder = builder.tls(tls);
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            portal_url: settings.portal_url.clone(),
            time_zone,
        })
    }

    /// A plain-text message from us to `name <to>`, its ID made of `kind`
    /// and the outbox item.
    fn message(
        &self,
        (name, to): (&str, &str),
        subject: String,
        kind: &str,
        item_id: &str,
        body: String,
    ) -> Result<Message, String> {
        let to = Mailbox::new(
            Some(name.to_owned()).filter(|n| !n.is_empty()),
            to.parse().map_err(|e| format!("the address {to:?}: {e}"))?,
        );
        // Outbox IDs may carry characters a Message-ID must not.
        let local: String = item_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '.'
                }
            })
            .collect();
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{kind}-{local}@{domain}>")))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the message: {e}"))
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// `at` (milliseconds since the epoch) as people read it where they
    /// are: `2026-12-02 10:42 CET`.
    fn local_time(&self, at: i64) -> String {
        jiff::Timestamp::from_millisecond(at)
            .map(|t| {
                t.to_zoned(self.time_zone.clone())
                    .strftime("%Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_else(|_| at.to_string())
    }
}

fn tls_parameters(settings: &MailSettings) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(file) = &settings.ca_file {
        let pem = std::fs::read(file)
            .map_err(|e| format!("reading smtp.ca_file {}: {e}", file.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("smtp.ca_file {}: {e}", file.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| format!("smtp TLS settings: {e}"))
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
pub(crate) fn test_settings() -> MailSettings {
    MailSettings {
        host: "127.0.0.1".into(),
        port: 2525,
        tls: SmtpTls::None,
        credentials: None,
        from: "Password reset <touchtone@example.com>".into(),
        ca_file: None,
        timeout: Duration::from_secs(5),
        portal_url: "https://touchtone.example.com/".into(),
        time_zone: "Europe/Berlin".into(),
    }
}
