//! Reminder e-mails to people who are not enrolled, or whose answers are
//! due to be confirmed again. Who gets one and when is the service's
//! business ([`touchtone_service::enrolment::reminders`]); this writes and
//! sends it.

use std::sync::Arc;

use askama::Template;
use async_trait::async_trait;
use lettre::message::Message;
use touchtone_service::delivery::Sink;
use touchtone_service::enrolment::reminders::{Reminder, ReminderReason};

use super::Mailer;
use crate::i18n::{Lang, Tr};

/// The sink of [`touchtone_service::enrolment::reminders::REMINDER_ACTION`].
pub struct ReminderMailer {
    mailer: Arc<Mailer>,
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
    pub fn new(mailer: Arc<Mailer>) -> ReminderMailer {
        ReminderMailer { mailer }
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
            portal_url: &self.mailer.portal_url,
            reconfirm,
        }
        .render()
        .map_err(|e| format!("rendering the reminder: {e}"))?;
        self.mailer
            .message(
                (&reminder.display_name, &reminder.to),
                subject,
                "reminder",
                item_id,
                body,
            )
            .map_err(|e| format!("the reminder to {}: {e}", reminder.person_id))
    }
}

#[async_trait]
impl Sink for ReminderMailer {
    async fn deliver(&self, item_id: &str, _event_type: &str, payload: &str) -> Result<(), String> {
        let reminder: Reminder =
            serde_json::from_str(payload).map_err(|e| format!("not a reminder: {e}"))?;
        let message = self.message(&reminder, item_id)?;
        // The relay's answer names no secret; the address is the person's
        // own, which the operator's log may show.
        self.mailer
            .send(message)
            .await
            .map_err(|e| format!("sending the reminder to {}: {e}", reminder.to))?;
        tracing::info!(person = %reminder.person_id, reason = reminder.reason.as_str(), "reminder e-mail sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer() -> ReminderMailer {
        ReminderMailer::new(Arc::new(
            Mailer::new(&super::super::test_settings()).unwrap(),
        ))
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
