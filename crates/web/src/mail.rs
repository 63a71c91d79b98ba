//! Reminder e-mails, the portal's other voice: written in the reminder's
//! language from the same Fluent files as the pages (`locales/LANG/
//! mail.ftl`) with a plain-text template (`templates/mail/reminder.txt`),
//! and sent over SMTP with lettre. The service decides who gets one and
//! when ([`touchtone_service::enrolment::reminders`]) and queues it in the
//! outbox; [`ReminderMailer`] is that action's sink, so a relay that is
//! down is retried with back-off and a restart loses nothing.
//!
//! Each message's `Message-ID` is derived from its outbox item, so a retry
//! after a relay accepted the message but the acknowledgement was lost is
//! recognisable as the same message. `Auto-Submitted: auto-generated`
//! (RFC 3834) keeps auto-responders from answering.

use std::path::PathBuf;
use std::time::Duration;

use askama::Template;
use async_trait::async_trait;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_service::delivery::Sink;
use touchtone_service::enrolment::reminders::{Reminder, ReminderReason};

use crate::i18n::{Lang, Tr};

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
}

/// The sink of [`touchtone_service::enrolment::reminders::REMINDER_ACTION`].
pub struct ReminderMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    portal_url: String,
}

#[derive(Template)]
#[template(path = "mail/reminder.txt")]
struct ReminderText<'a> {
    tr: Tr,
    reminder: &'a Reminder,
    portal_url: &'a str,
    reconfirm: bool,
}

impl ReminderMailer {
    pub fn new(settings: &MailSettings) -> Result<ReminderMailer, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("smtp.from {:?}: {e}", settings.from))?;
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
        Ok(ReminderMailer {
            transport: builder.build(),
            from,
            portal_url: settings.portal_url.clone(),
        })
    }

    /// The message for `reminder`, queued as outbox item `item_id`.
    pub fn message(&self, reminder: &Reminder, item_id: &str) -> Result<Message, String> {
        let lang = Lang::from_code(&reminder.language).unwrap_or(Lang::En);
        let tr = Tr::new(lang);
        let reconfirm = reminder.reason == ReminderReason::ReconfirmDue;
        let subject = tr.t(if reconfirm {
            "reminder-subject-reconfirm"
        } else {
            "reminder-subject-enrol"
        });
        let body = ReminderText {
            tr,
            reminder,
            portal_url: &self.portal_url,
            reconfirm,
        }
        .render()
        .map_err(|e| format!("rendering the reminder: {e}"))?;
        let to = Mailbox::new(
            Some(reminder.display_name.clone()),
            reminder
                .to
                .parse()
                .map_err(|e| format!("the address of {}: {e}", reminder.person_id))?,
        );
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<reminder-{item_id}@{domain}>")))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the reminder: {e}"))
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

#[async_trait]
impl Sink for ReminderMailer {
    async fn deliver(&self, item_id: &str, _event_type: &str, payload: &str) -> Result<(), String> {
        let reminder: Reminder =
            serde_json::from_str(payload).map_err(|e| format!("not a reminder: {e}"))?;
        let message = self.message(&reminder, item_id)?;
        // The relay's answer names no secret; the address is the person's
        // own, which the operator's log may show.
        self.transport
            .send(message)
            .await
            .map_err(|e| format!("sending the reminder to {}: {e}", reminder.to))?;
        tracing::info!(person = %reminder.person_id, reason = reminder.reason.as_str(), "reminder e-mail sent");
        Ok(())
    }
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
mod tests {
    use super::*;

    fn mailer() -> ReminderMailer {
        ReminderMailer::new(&MailSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: SmtpTls::None,
            credentials: None,
            from: "Password reset <touchtone@example.com>".into(),
            ca_file: None,
            timeout: Duration::from_secs(5),
            portal_url: "https://touchtone.example.com/".into(),
        })
        .unwrap()
    }

    fn reminder(reason: ReminderReason, language: &str) -> Reminder {
        Reminder {
            person_id: "jsmith".into(),
            display_name: "Jörg Smith".into(),
            to: "jsmith@example.com".into(),
            reason,
            language: language.into(),
            questions_required: 3,
        }
    }

    fn text(message: &Message) -> String {
        String::from_utf8(message.formatted()).unwrap()
    }

    // The transport's connection pool needs a runtime, even unused.
    #[tokio::test]
    async fn a_reminder_is_written_in_its_language_with_the_portal_link() {
        let m = mailer();
        let en = text(
            &m.message(&reminder(ReminderReason::NotEnrolled, "en"), "item-1")
                .unwrap(),
        );
        assert!(en.contains("Subject: Please enrol"), "{en}");
        assert!(en.contains("https://touchtone.example.com/"), "{en}");
        assert!(en.contains("3 questions"), "{en}");
        assert!(en.contains("Auto-Submitted: auto-generated"), "{en}");
        assert!(
            en.contains("Message-ID: <reminder-item-1@example.com>"),
            "{en}"
        );
        let de = text(
            &m.message(&reminder(ReminderReason::ReconfirmDue, "de"), "item-2")
                .unwrap(),
        );
        assert!(
            de.contains("Subject: Bitte =?utf-8?"),
            "the German subject, encoded: {de}"
        );
        assert!(
            de.contains("Content-Type: text/plain; charset=utf-8"),
            "{de}"
        );
        assert!(de.contains("https://touchtone.example.com/"), "{de}");
        assert_ne!(en, de);
    }

    #[tokio::test]
    async fn a_bad_address_is_an_error_not_a_panic() {
        let mut r = reminder(ReminderReason::NotEnrolled, "en");
        r.to = "not an address".into();
        assert!(mailer().message(&r, "x").is_err());
    }
}
