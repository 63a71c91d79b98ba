//! Reminder e-mails to people who are not enrolled, or whose answers are
//! due to be confirmed again: who gets one and when. A pass queues one
//! outbox item per person (action [`REMINDER_ACTION`]) in the same
//! transaction as the record of the reminder, so a restart loses none and
//! a second pass, on this node or another, queues none twice within
//! `enrolment.reminder_interval_ms`. The mail itself is written and sent
//! by the action's sink (the web crate's mailer), which the outbox retries
//! with back-off until the SMTP server takes it.

use serde::{Deserialize, Serialize};
use touchtone_store::{outbox, reminders};

use super::report::Standing;
use crate::session_gate::commit;
use crate::{Service, ServiceError};

/// The outbox action reminder e-mails are delivered through.
pub const REMINDER_ACTION: &str = "@reminder-mail";

/// People whose reminders are recorded in one transaction.
const CHUNK: usize = 200;

/// Why a person is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderReason {
    NotEnrolled,
    ReconfirmDue,
}

impl ReminderReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderReason::NotEnrolled => "not_enrolled",
            ReminderReason::ReconfirmDue => "reconfirm_due",
        }
    }
}

/// One reminder as queued: everything the mailer needs, and no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub person_id: String,
    pub display_name: String,
    /// The person's address, from the directory.
    pub to: String,
    pub reason: ReminderReason,
    /// The language to write in (`en`, `de`).
    pub language: String,
    /// Answers the policy asks for.
    pub questions_required: usize,
}

impl Service {
    /// Queues a reminder for every active person with an e-mail address
    /// who is not enrolled or is due to confirm their answers, unless one
    /// was queued for them within `enrolment.reminder_interval_ms`.
    /// Returns how many were queued; with reminders off (interval 0),
    /// none.
    pub async fn queue_reminders(&self) -> Result<usize, ServiceError> {
        let settings = &self.settings().enrolment;
        if settings.reminder_interval_ms <= 0 {
            return Ok(0);
        }
        let due: Vec<Reminder> = self
            .enrolment_standings()
            .await?
            .into_iter()
            .filter_map(|(person, standing)| {
                let reason = match standing {
                    Standing::Enrolled => return None,
                    Standing::NotEnrolled => ReminderReason::NotEnrolled,
                    Standing::ReconfirmDue => ReminderReason::ReconfirmDue,
                };
                let to = person.mail.filter(|m| m.contains('@'))?;
                Some(Reminder {
                    person_id: person.id,
                    display_name: person.display_name,
                    to,
                    reason,
                    language: settings.reminder_language.clone(),
                    questions_required: settings.questions_required,
                })
            })
            .collect();
        let mut queued = 0;
        for chunk in due.chunks(CHUNK) {
            let now = self.now();
            let cutoff = now - settings.reminder_interval_ms;
            let mut tx = self.store().begin().await?;
            for reminder in chunk {
                let reason = reminder.reason.as_str();
                if !reminders::claim(&mut tx, &reminder.person_id, reason, now, cutoff).await? {
                    continue;
                }
                let payload = serde_json::to_string(reminder)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                let id = uuid::Uuid::new_v4().to_string();
                outbox::enqueue(&mut tx, &id, REMINDER_ACTION, &payload, now).await?;
                queued += 1;
            }
            commit(tx).await?;
        }
        if queued > 0 {
            tracing::info!(queued, "reminder e-mails queued");
        }
        Ok(queued)
    }
}
