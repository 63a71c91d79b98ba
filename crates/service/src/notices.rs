//! Telling people what happened to their accounts, out of band: after a
//! password reset, an unlock, an intruder lockout and (when configured) a
//! failed verification, a notice goes to the person's e-mail address, so
//! someone who did not ask for it learns of it at once and can call the
//! helpdesk. Administrators can be told of every reset, unlock and lockout
//! of a privileged person as well.
//!
//! A notice is queued in the outbox (action [`NOTICE_ACTION`]) in the same
//! transaction that records what happened, so it is sent if and only if
//! that is committed, and a restart between the two loses nothing and
//! sends nothing twice. The mail itself is written and sent by the
//! action's sink (the web crate's mailer). Every door reaches this through
//! the one place that records the operation or the failure, so no door can
//! reset quietly.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use touchtone_store::people::Person as PersonRow;
use touchtone_store::{AnyConnection, outbox};

use crate::{Service, ServiceError};

/// The outbox action notices are delivered through.
pub const NOTICE_ACTION: &str = "@notice-mail";

/// Failed-verification notices to one person at most once per this long
/// (one call gives up to three failures; one message is enough).
const FAILURE_NOTICE_BUCKET_MS: i64 = 3600 * 1000;

/// What a notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// `UserPasswordSync` ran (the accounts say where it worked).
    PasswordReset,
    /// `UserAccountsUnlock` ran.
    AccountsUnlocked,
    /// Too many failed verifications locked the person out.
    LockedOut,
    /// A verification failed (off unless configured).
    VerificationFailed,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::PasswordReset,
        NoticeKind::AccountsUnlocked,
        NoticeKind::LockedOut,
        NoticeKind::VerificationFailed,
    ];

    /// The configuration's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::PasswordReset => "reset",
            NoticeKind::AccountsUnlocked => "unlock",
            NoticeKind::LockedOut => "lockout",
            NoticeKind::VerificationFailed => "verify_failure",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Which notices go out, and in what language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoticeSettings {
    /// Empty: no notices (also when no mail relay is configured).
    pub email: HashSet<NoticeKind>,
    /// The language to write in (`en`, `de`).
    pub language: String,
    /// Addresses told of every reset, unlock and lockout of a privileged
    /// person (whatever `email` says, and whether or not the person has an
    /// address); empty: none.
    pub admins: Vec<String>,
}

/// One account an operation touched, as the notice names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAccount {
    pub target: String,
    pub account: String,
    pub ok: bool,
}

/// One notice as queued: everything the mailer needs, and no secret (never
/// the password, the code or the answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub person_id: String,
    pub display_name: String,
    /// The person's address, from the directory or the import.
    pub to: String,
    pub kind: NoticeKind,
    /// When it happened, milliseconds since the epoch.
    pub at: i64,
    /// The door it came through (`ivr`, `api`, `portal`).
    pub door: String,
    /// For resets and unlocks: each account and whether it worked.
    #[serde(default)]
    pub accounts: Vec<NoticeAccount>,
    /// For lockouts: until when (none: until the helpdesk clears it).
    #[serde(default)]
    pub locked_until: Option<i64>,
    pub language: String,
    /// Addressed to an administrator about the person, not to the person.
    #[serde(default)]
    pub for_admin: bool,
}

impl Notice {
    /// Whether a reset or an unlock worked on at least one account.
    pub fn any_ok(&self) -> bool {
        self.accounts.iter().any(|a| a.ok)
    }
}

/// What happened, for [`Service::queue_notice`].
pub(crate) struct Happened<'a> {
    pub kind: NoticeKind,
    pub door: &'a str,
    pub at: i64,
    pub accounts: Vec<NoticeAccount>,
    pub locked_until: Option<i64>,
}

impl Service {
    /// Queues a notice to `person` in the caller's transaction, when notices
    /// of that kind are on and the person has an address. Returns whether
    /// one was queued.
    pub(crate) async fn queue_notice(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
        happened: Happened<'_>,
    ) -> Result<bool, ServiceError> {
        let settings = &self.settings().notices;
        let to_person = settings
            .email
            .contains(&happened.kind)
            .then(|| person.mail.as_deref().filter(|m| m.contains('@')))
            .flatten();
        let to_admins: &[String] =
            if person.privileged && happened.kind != NoticeKind::VerificationFailed {
                &settings.admins
            } else {
                &[]
            };
        if to_person.is_none() && to_admins.is_empty() {
            return Ok(false);
        }
        let notice = |to: &str, for_admin: bool| Notice {
            person_id: person.id.clone(),
            display_name: person.display_name.clone(),
            to: to.to_owned(),
            kind: happened.kind,
            at: happened.at,
            door: happened.door.to_owned(),
            accounts: happened.accounts.clone(),
            locked_until: happened.locked_until,
            language: settings.language.clone(),
            for_admin,
        };
        let payload = |n: &Notice| {
            serde_json::to_string(n).map_err(|e| ServiceError::Internal(e.to_string()))
        };
        let mut queued = false;
        if let Some(to) = to_person {
            let payload = payload(&notice(to, false))?;
            if happened.kind == NoticeKind::VerificationFailed {
                // One per person and hour: the item's ID says which hour.
                let bucket = happened.at.div_euclid(FAILURE_NOTICE_BUCKET_MS);
                let id = format!("verify-failure-notice:{}:{bucket}", person.id);
                queued |=
                    outbox::enqueue_once(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
            } else {
                let id = uuid::Uuid::new_v4().to_string();
                outbox::enqueue(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
                queued = true;
            }
        }
        for admin in to_admins {
            let payload = payload(&notice(admin, true))?;
            let id = uuid::Uuid::new_v4().to_string();
            outbox::enqueue(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
            queued = true;
        }
        Ok(queued)
    }
}
