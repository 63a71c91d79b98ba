//! What the portal's status page shows a signed-in person about
//! themselves: whether they are enrolled and what the policy still asks,
//! which questions they answered (never the answers), their phone numbers,
//! their accounts, and what happened to their identity lately, with the
//! door and calling number, so they notice an attack.

use touchtone_core::event::EventType;
use touchtone_store::{activity, people as person_rows, questions, registered_phones};

use super::PortalError;
use crate::people::{Account, Person};
use crate::{Caller, Service};

/// A person's standing, for their status page.
#[derive(Debug, Clone)]
pub struct PortalStatus {
    pub person: Person,
    /// Answers the policy asks for.
    pub required: usize,
    /// The questions answered, with when.
    pub enrolled: Vec<EnrolledQuestion>,
    /// Answers still missing before the phone reset accepts the person.
    pub missing: usize,
    /// Some answers are older than the policy allows and must be
    /// confirmed again.
    pub reconfirm_due: bool,
    pub phones: Vec<PhoneNumber>,
    pub accounts: Vec<Account>,
    /// Newest first.
    pub activity: Vec<Activity>,
}

impl PortalStatus {
    /// Enrolled as the policy asks, and nothing to confirm again.
    pub fn complete(&self) -> bool {
        self.missing == 0 && !self.reconfirm_due
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledQuestion {
    pub question_id: String,
    pub text: String,
    /// The person wrote it.
    pub own: bool,
    pub enrolled_at: i64,
    /// Older than `reconfirm_days`.
    pub stale: bool,
}

/// A number the caller-ID check and call-backs may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub number: String,
    /// Registered by the person (removable), else from the directory.
    pub registered_at: Option<i64>,
}

/// One thing that happened to the person's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub at: i64,
    /// `None` for a kind this version does not know.
    pub event: Option<EventType>,
    /// `api`, `ivr`, `portal`, … (empty when no door was involved).
    pub door: String,
    pub caller_number: Option<String>,
    /// For account operations: the target and, on failure, its code.
    pub target: Option<String>,
    pub error: Option<String>,
}

impl Service {
    /// The status of the session's person.
    pub async fn portal_status(
        &self,
        _caller: &Caller,
        token: &str,
    ) -> Result<PortalStatus, PortalError> {
        let (_, person) = self.live_session(token).await?;
        let now = self.now();
        let enrolment = &self.settings().enrolment;
        let mut conn = self.store().acquire().await?;
        let dates = questions::enrolled_at(&mut conn, &person.id).await?;
        let enrolled: Vec<EnrolledQuestion> = questions::enrolled(&mut conn, &person.id)
            .await?
            .into_iter()
            .map(|q| {
                let enrolled_at = dates
                    .iter()
                    .find(|(id, _)| *id == q.id)
                    .map_or(0, |(_, at)| *at);
                EnrolledQuestion {
                    stale: enrolment.reconfirm_ms > 0 && now - enrolled_at > enrolment.reconfirm_ms,
                    question_id: q.id,
                    text: q.text,
                    own: q.owner.is_some(),
                    enrolled_at,
                }
            })
            .collect();
        let mut phones: Vec<PhoneNumber> = person
            .phone_numbers
            .iter()
            .map(|n| PhoneNumber {
                number: n.clone(),
                registered_at: None,
            })
            .collect();
        for (number, at) in registered_phones::list(&mut conn, &person.id).await? {
            phones.push(PhoneNumber {
                number,
                registered_at: Some(at),
            });
        }
        let accounts = person_rows::accounts(&mut conn, &person.id)
            .await?
            .into_iter()
            .map(Account::from)
            .collect();
        let activity =
            activity::recent(&mut conn, &person.id, self.settings().portal.activity_shown)
                .await?
                .into_iter()
                .map(|a| {
                    let detail: serde_json::Value =
                        serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null);
                    let text =
                        |key: &str| detail.get(key).and_then(|v| v.as_str()).map(str::to_owned);
                    Activity {
                        at: a.at,
                        event: EventType::from_name(&a.kind),
                        door: a.door,
                        caller_number: a.caller_number,
                        target: text("target"),
                        error: text("error"),
                    }
                })
                .collect();
        let required = enrolment.questions_required;
        Ok(PortalStatus {
            missing: required.saturating_sub(enrolled.len()),
            reconfirm_due: enrolled.iter().any(|q| q.stale),
            required,
            enrolled,
            phones,
            accounts,
            activity,
            person: person.into(),
        })
    }
}
