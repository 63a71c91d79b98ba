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
use touchtone_store::{AnyConnection, lockouts, otp_calls, outbox, registered_phones};

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
    /// Which kinds also get a voice notification call to the person's
    /// first registered number (not `VerificationFailed`); empty: none.
    pub calls: HashSet<NoticeKind>,
}

impl NoticeSettings {
    /// Whether anything at all may be sent about `kind` (before knowing
    /// the person): a mail or a call to them, or a mail to the
    /// administrators should they be privileged.
    pub fn may_send(&self, kind: NoticeKind) -> bool {
        self.email.contains(&kind)
            || self.calls.contains(&kind)
            || (!self.admins.is_empty() && kind != NoticeKind::VerificationFailed)
    }
}

/// One account an operation touched, as the notice names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAccount {
    pub target: String,
    pub account: String,
    pub ok: bool,
    /// The service stopped while the change was under way on a system that
    /// may or may not have made it (`ok` is then false).
    #[serde(default)]
    pub unknown: bool,
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

/// The outbox action that turns a notice into a notification call.
pub const NOTICE_CALL_ACTION: &str = "@notice-call";

/// The API-user name notification calls are queued under (reserved: no API
/// user can take a name starting with `@`).
pub const NOTICE_CALLER: &str = "@notice";

/// A notification call as queued in the outbox, before it is a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeCall {
    pub person_id: String,
    /// The person's registered number (E.164).
    pub to: String,
    pub kind: NoticeKind,
    pub at: i64,
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
    /// of that kind are on and the person has an address (and to the
    /// administrators, for a privileged person), and a notification call
    /// when those are on and the person has a registered number.
    pub(crate) async fn queue_notice(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
        happened: Happened<'_>,
    ) -> Result<(), ServiceError> {
        let settings = &self.settings().notices;
        if !settings.may_send(happened.kind) {
            return Ok(());
        }
        let to_person = settings
            .email
            .contains(&happened.kind)
            .then(|| person.mail.as_deref().filter(|m| m.contains('@')))
            .flatten();
        if settings.calls.contains(&happened.kind) {
            self.queue_notice_call(conn, person, &happened).await?;
        }
        let to_admins: &[String] =
            if person.privileged && happened.kind != NoticeKind::VerificationFailed {
                &settings.admins
            } else {
                &[]
            };
        if to_person.is_none() && to_admins.is_empty() {
            return Ok(());
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
        if let Some(to) = to_person {
            let payload = payload(&notice(to, false))?;
            if happened.kind == NoticeKind::VerificationFailed {
                // One per person and hour: the item's ID says which hour.
                let bucket = happened.at.div_euclid(FAILURE_NOTICE_BUCKET_MS);
                let id = format!("verify-failure-notice:{}:{bucket}", person.id);
                outbox::enqueue_once(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
            } else {
                let id = uuid::Uuid::new_v4().to_string();
                outbox::enqueue(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
            }
        }
        for admin in to_admins {
            let payload = payload(&notice(admin, true))?;
            let id = uuid::Uuid::new_v4().to_string();
            outbox::enqueue(conn, &id, NOTICE_ACTION, &payload, happened.at).await?;
        }
        Ok(())
    }

    /// Queues the notification call in the caller's transaction (as an
    /// outbox item, so it is placed if and only if what it reports is
    /// committed) to the person's first registered number.
    async fn queue_notice_call(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
        happened: &Happened<'_>,
    ) -> Result<(), ServiceError> {
        let Some((to, _)) = registered_phones::list(conn, &person.id)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let call = NoticeCall {
            person_id: person.id.clone(),
            to,
            kind: happened.kind,
            at: happened.at,
        };
        let payload =
            serde_json::to_string(&call).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let id = uuid::Uuid::new_v4().to_string();
        outbox::enqueue(conn, &id, NOTICE_CALL_ACTION, &payload, happened.at).await?;
        Ok(())
    }

    /// Places the notification call `call` (from outbox item `item_id`,
    /// which makes it idempotent: a redelivered item is the same call),
    /// through the voice-OTP queue, its guard and its CDRs. `local_time` is
    /// when it happened as the person reads a clock (`HHMM`).
    pub async fn place_notice_call(
        &self,
        item_id: &str,
        call: &NoticeCall,
        local_time: &str,
    ) -> Result<(), ServiceError> {
        let code = touchtone_core::otp::OtpCode::parse(local_time)
            .map_err(|_| ServiceError::BadRequest("the time of a notice call is HHMM".into()))?;
        let languages = &self.settings().otp.languages;
        let wanted = &self.settings().notices.language;
        let request = crate::otp::OtpRequest {
            to: call.to.clone(),
            code,
            mode: crate::otp::OtpMode::Notify,
            language: languages.iter().find(|l| *l == wanted).cloned(),
            repeat: None,
            callback_url: None,
            idempotency_key: Some(item_id.to_owned()),
            about: Some((call.person_id.clone(), call.kind.as_str().to_owned())),
        };
        let internal = crate::Caller {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            door: crate::Door::Api,
        };
        self.queue_otp(&internal, NOTICE_CALLER, request).await?;
        Ok(())
    }

    /// The callee of notification call `call_id` pressed 1: it was not
    /// them. The person is locked for every door until the helpdesk clears
    /// it, `ET_SUSPECTED_FRAUD` is raised and audited. Returns whether the
    /// call was about someone (and so locked them).
    pub async fn report_not_me(&self, call_id: &str) -> Result<bool, ServiceError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let Some(person_id) = otp_calls::person_of(&mut tx, call_id).await? else {
            return Ok(false);
        };
        lockouts::set_lock(
            &mut tx,
            &person_id,
            touchtone_core::lockout::LockState {
                locked_at: now,
                locked_until: None,
            },
        )
        .await?;
        let detail = serde_json::json!({"door": "ivr", "call": call_id});
        let event = crate::events::EventRouter::event(
            touchtone_core::event::EventType::SuspectedFraud,
            Some(&person_id),
            NOTICE_CALLER,
            detail.clone(),
            now,
        );
        self.events().emit(&mut tx, &event).await?;
        crate::session_gate::append_audit(
            &mut tx,
            NOTICE_CALLER,
            "not_me",
            &person_id,
            "locked",
            detail,
            now,
        )
        .await?;
        crate::session_gate::commit(tx).await?;
        tracing::warn!(user_id = %person_id, call = %call_id, "a notification call was answered \"not me\": locked");
        Ok(true)
    }
}
