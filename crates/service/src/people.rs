//! People: who they are as the doors see them, who may be acted on, and
//! their intruder-lock state.
//!
//! [`Person`] and [`Account`] are the service's own view of a person and
//! their accounts (the store's rows carry bookkeeping, such as when an
//! operator last cleared their failures, that no door needs). The
//! functions below are the one place that decides whether a person can be
//! acted on (exists, not disabled), whether their intruder lock holds, and
//! how a failed verification counts toward it, whichever door the attempt
//! came through.

use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::keypad::keypad_id;
use touchtone_core::lockout::LockoutPolicy;
use touchtone_store::people::{self as person_rows, AccountRef, Person as PersonRow};
use touchtone_store::{AnyConnection, lockouts};

use crate::events::EventRouter;
use crate::notices::{Happened, NoticeKind};
use crate::settings::KeypadAttribute;
use crate::{Service, ServiceError};

/// A person, as imported from CSV or a directory and as operators see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The login name, and the API's `user_id`.
    pub id: String,
    pub display_name: String,
    pub department: String,
    pub employee_number: Option<String>,
    pub mail: Option<String>,
    /// Registered numbers, as given (compared in E.164 form).
    pub phone_numbers: Vec<String>,
    pub disabled: bool,
    /// Directory groups (DNs or names), which policies may match on.
    pub groups: Vec<String>,
    /// An administrator or other person policies may ask more of.
    pub privileged: bool,
}

/// One of a person's accounts on a target system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    pub target: String,
    pub account: String,
}

impl From<PersonRow> for Person {
    fn from(row: PersonRow) -> Person {
        Person {
            id: row.id,
            display_name: row.display_name,
            department: row.department,
            employee_number: row.employee_number,
            mail: row.mail,
            phone_numbers: row.phone_numbers,
            disabled: row.disabled,
            groups: row.groups,
            privileged: row.privileged,
        }
    }
}

impl Person {
    /// The row to store (an upsert keeps the stored failure bookkeeping).
    pub(crate) fn to_row(&self) -> PersonRow {
        PersonRow {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            department: self.department.clone(),
            employee_number: self.employee_number.clone(),
            mail: self.mail.clone(),
            phone_numbers: self.phone_numbers.clone(),
            disabled: self.disabled,
            groups: self.groups.clone(),
            privileged: self.privileged,
            failures_cleared_at: 0,
        }
    }
}

impl From<AccountRef> for Account {
    fn from(a: AccountRef) -> Account {
        Account {
            target: a.target,
            account: a.account,
        }
    }
}

impl From<&Account> for AccountRef {
    fn from(a: &Account) -> AccountRef {
        AccountRef {
            target: a.target.clone(),
            account: a.account.clone(),
        }
    }
}

impl Service {
    /// The `(attribute, digits)` keypad IDs of a person under the
    /// configured attributes.
    pub fn keypad_ids_of(&self, person: &Person) -> Vec<(String, String)> {
        self.keypad_ids(&person.id, person.employee_number.as_deref())
    }

    pub(crate) fn keypad_ids(
        &self,
        login: &str,
        employee_number: Option<&str>,
    ) -> Vec<(String, String)> {
        self.settings()
            .keypad_attributes
            .iter()
            .filter_map(|attribute| {
                let text = match attribute {
                    KeypadAttribute::Login => Some(login),
                    KeypadAttribute::EmployeeNumber => employee_number,
                }?;
                keypad_id(text).map(|digits| (attribute.as_str().to_owned(), digits.to_string()))
            })
            .collect()
    }

    /// Counts one failed verification, locks the person when the window
    /// limit is reached, and emits the events. Returns whether the person
    /// is now locked. Every door's failures count here, together.
    pub(crate) async fn record_failure(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
        attempt: &Attempt<'_>,
        actor: &str,
        now: i64,
    ) -> Result<bool, ServiceError> {
        let policy = &self.settings().lockout;
        let door = attempt.door;
        lockouts::record_failure(conn, &person.id, attempt.session_id, door, now).await?;
        let since = counting_since(conn, person, policy, now).await?;
        let window_failures = lockouts::failures_since(conn, &person.id, since).await?;
        let mut detail = json!({"door": door, "failures_in_window": window_failures});
        if let Some(number) = attempt.caller_number {
            detail["caller_number"] = number.into();
        }
        let event = EventRouter::event(
            EventType::VerifyFailure,
            Some(&person.id),
            actor,
            detail,
            now,
        );
        self.events().emit(conn, &event).await?;
        if !policy.locks_after(window_failures) {
            let happened = Happened {
                kind: NoticeKind::VerificationFailed,
                door,
                at: now,
                accounts: Vec::new(),
                locked_until: None,
            };
            self.queue_notice(conn, person, happened).await?;
            return Ok(false);
        }
        let lock = policy.lock_from(now);
        lockouts::set_lock(conn, &person.id, lock).await?;
        let event = EventRouter::event(
            EventType::IntruderLockout,
            Some(&person.id),
            actor,
            json!({"door": door, "locked_until": lock.locked_until}),
            now,
        );
        self.events().emit(conn, &event).await?;
        let happened = Happened {
            kind: NoticeKind::LockedOut,
            door,
            at: now,
            accounts: Vec::new(),
            locked_until: lock.locked_until,
        };
        self.queue_notice(conn, person, happened).await?;
        tracing::warn!(user_id = %person.id, door, "intruder lockout");
        Ok(true)
    }
}

impl Service {
    /// How many more failures the session may make for the person (per
    /// session and in the rolling window), with the counts so far:
    /// `(left, session_failures, window_failures)`.
    pub(crate) async fn attempts_left(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
        session_id: &str,
        now: i64,
    ) -> Result<(u32, u32, u32), ServiceError> {
        let policy = &self.settings().lockout;
        let since = counting_since(conn, person, policy, now).await?;
        let session_failures =
            lockouts::session_failures(conn, &person.id, session_id, since).await?;
        let window_failures = lockouts::failures_since(conn, &person.id, since).await?;
        Ok((
            policy.attempts_left(session_failures, window_failures),
            session_failures,
            window_failures,
        ))
    }
}

/// Where a failed verification came from: the session (or sign-in
/// attempt) it counts against, its door and the calling number, if known.
pub(crate) struct Attempt<'a> {
    pub session_id: &'a str,
    pub door: &'a str,
    pub caller_number: Option<&'a str>,
}

/// A person who exists and is not disabled.
pub(crate) async fn active_person(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<PersonRow, ServiceError> {
    match person_rows::get(conn, user_id).await? {
        Some(p) if !p.disabled => Ok(p),
        _ => Err(ServiceError::UnknownUser),
    }
}

/// Where counting of failures starts: the rolling window, but never before
/// an operator cleared the person's failures or before their last lock
/// (the failures that caused a lock are spent once it expires).
pub(crate) async fn counting_since(
    conn: &mut AnyConnection,
    person: &PersonRow,
    policy: &LockoutPolicy,
    now: i64,
) -> Result<i64, ServiceError> {
    let mut since = policy
        .window_start(now)
        .max(person.failures_cleared_at.saturating_add(1));
    if let Some(lock) = lockouts::get_lock(conn, &person.id).await? {
        since = since.max(lock.locked_at.saturating_add(1));
    }
    Ok(since)
}

/// Every number the person is known by: the directory's (or import's) and
/// the ones they registered (proved by a call).
pub(crate) async fn known_numbers(
    conn: &mut AnyConnection,
    person: &PersonRow,
) -> Result<Vec<String>, ServiceError> {
    let mut numbers = person.phone_numbers.clone();
    numbers.extend(
        touchtone_store::registered_phones::list(conn, &person.id)
            .await?
            .into_iter()
            .map(|(number, _)| number),
    );
    Ok(numbers)
}

/// Whether the person's intruder lock holds at `now`.
pub(crate) async fn is_locked(
    conn: &mut AnyConnection,
    person: &PersonRow,
    now: i64,
) -> Result<bool, ServiceError> {
    Ok(lockouts::get_lock(conn, &person.id)
        .await?
        .is_some_and(|lock| lock.holds_at(now)))
}

/// How one attempt at a secret (answers, a PIN, a code) went, under the
/// intruder lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judged {
    /// The person is locked: the attempt was not even considered.
    Locked,
    /// This session has used its attempts for the person: not considered.
    NoAttemptsLeft,
    /// Right; `attempts_left` as before it.
    Right { attempts_left: u32 },
    /// Wrong, and counted (every door's failures count together).
    Wrong { attempts_left: u32, locked: bool },
}

impl Service {
    /// Judges an attempt for `person` in the call's transaction: checks the
    /// lock and the session's attempts, and counts a wrong one.
    pub(crate) async fn judge_attempt(
        &self,
        call: &mut crate::session_gate::CallTx,
        person: &PersonRow,
        right: bool,
    ) -> Result<Judged, ServiceError> {
        let now = call.now;
        lockouts::serialize_person(call.conn(), &person.id).await?;
        if is_locked(call.conn(), person, now).await? {
            return Ok(Judged::Locked);
        }
        let session_id = call.session.id.clone();
        let (left, session_failures, window_failures) = self
            .attempts_left(call.conn(), person, &session_id, now)
            .await?;
        if left == 0 {
            return Ok(Judged::NoAttemptsLeft);
        }
        if right {
            return Ok(Judged::Right {
                attempts_left: left,
            });
        }
        let actor = call.session.api_user.clone();
        let number = call.session.calling_number.clone();
        let attempt = Attempt {
            session_id: &session_id,
            door: call.caller.door.as_str(),
            caller_number: number.as_deref(),
        };
        let locked = self
            .record_failure(call.conn(), person, &attempt, &actor, now)
            .await?;
        let policy = &self.settings().lockout;
        Ok(Judged::Wrong {
            attempts_left: if locked {
                0
            } else {
                policy.attempts_left(session_failures + 1, window_failures + 1)
            },
            locked,
        })
    }
}
