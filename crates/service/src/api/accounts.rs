//! The account operations, `UserPasswordSync` and `UserAccountsUnlock`,
//! and what they share: the gate (the user must be verified in this
//! session, unless the API user is privileged, and must not be locked
//! out), the choice of accounts, and the durable per-account record around
//! each target call.
//!
//! Order of writes for one operation:
//! 1. one transaction: spend the session ID, issue the next, record the
//!    operation with every step `attempting`, audit; commit;
//! 2. for each account: call the target; then one transaction: the step's
//!    result, its event in the outbox, an audit row; commit. On the local
//!    target the change itself is made in that same transaction.
//!
//! The calls run in a task of their own, so a client that hangs up does
//! not stop an operation half-way; a process that dies half-way leaves
//! `attempting` steps that the next start resolves: not changed on the
//! local target, outcome unknown on every other
//! ([`Service::recover_interrupted`]).

use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::Tx;
use touchtone_store::api_users;
use touchtone_store::operations::{self, OperationKind};
use touchtone_store::people::{self, AccountRef};
use touchtone_targets::local::LocalTarget;
use touchtone_targets::{ResetOptions, TargetError, UnlockOutcome};

use super::Rotated;
use crate::events::EventRouter;
use crate::factors;
use crate::notices::{Happened, NoticeAccount, NoticeKind};
use crate::people::{active_person, is_locked};
use crate::session_gate::{CallTx, append_audit, commit};
use crate::{Caller, Service, ServiceError};

/// Names one account of the user: by target and account, or by account
/// name alone when that is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSelector {
    pub account: String,
    pub target: Option<String>,
}

/// The outcome on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountResult {
    pub account: String,
    pub target: String,
    pub ok: bool,
    /// A stable code (`no_such_account`, `policy_rejected`, `timeout`, …).
    pub error: Option<String>,
    /// What to tell the user about a failure.
    pub message: Option<String>,
    /// For unlocks: false when the account was not locked.
    pub was_locked: Option<bool>,
}

enum Operation {
    SetPassword(SecretString),
    Unlock,
}

impl Operation {
    fn kind(&self) -> OperationKind {
        match self {
            Operation::SetPassword(_) => OperationKind::PasswordSync,
            Operation::Unlock => OperationKind::Unlock,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Operation::SetPassword(_) => "UserPasswordSync",
            Operation::Unlock => "UserAccountsUnlock",
        }
    }

    fn notice_kind(&self) -> NoticeKind {
        notice_kind_of(self.kind())
    }

    fn events(&self) -> (EventType, EventType) {
        events_of(self.kind())
    }
}

/// The success and the failure event of an operation of `kind`.
pub(crate) fn events_of(kind: OperationKind) -> (EventType, EventType) {
    match kind {
        OperationKind::PasswordSync => (EventType::AdminResetSuccess, EventType::AdminResetFailure),
        OperationKind::Unlock => (EventType::AdminUnlockSuccess, EventType::AdminUnlockFailure),
    }
}

/// The notice that tells the person of an operation of `kind`.
pub(crate) fn notice_kind_of(kind: OperationKind) -> NoticeKind {
    match kind {
        OperationKind::PasswordSync => NoticeKind::PasswordReset,
        OperationKind::Unlock => NoticeKind::AccountsUnlocked,
    }
}

impl Service {
    /// Sets `password` on every (or each selected) account of the user.
    pub async fn password_sync(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        password: SecretString,
        accounts: Option<Vec<AccountSelector>>,
    ) -> Result<Rotated<Vec<AccountResult>>, ServiceError> {
        self.run_operation(
            caller,
            token,
            user_id,
            accounts,
            Operation::SetPassword(password),
        )
        .await
    }

    /// Unlocks every (or each selected) account of the user.
    pub async fn accounts_unlock(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        accounts: Option<Vec<AccountSelector>>,
    ) -> Result<Rotated<Vec<AccountResult>>, ServiceError> {
        self.run_operation(caller, token, user_id, accounts, Operation::Unlock)
            .await
    }

    async fn run_operation(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
        selectors: Option<Vec<AccountSelector>>,
        operation: Operation,
    ) -> Result<Rotated<Vec<AccountResult>>, ServiceError> {
        super::check_id("user_id", user_id)?;
        let mut call = self.open_call(caller, token, operation.action()).await?;
        let accounts = match self
            .prepare_operation(&mut call, user_id, selectors.as_deref(), &operation)
            .await
        {
            Ok(accounts) => accounts,
            Err(e) => return Err(self.fail_call(call, user_id, e).await),
        };

        let operation_id = uuid::Uuid::new_v4().to_string();
        let now = call.now;
        let session_id = call.session.id.clone();
        let actor = call.session.api_user.clone();
        let started = async {
            operations::start(
                call.conn(),
                operations::NewOperation {
                    id: &operation_id,
                    kind: operation.kind(),
                    person_id: user_id,
                    actor: &actor,
                    door: caller.door.as_str(),
                    session_id: Some(&session_id),
                    started_at: now,
                },
            )
            .await?;
            for account in &accounts {
                operations::step_attempting(
                    call.conn(),
                    &operation_id,
                    &account.target,
                    &account.account,
                    now,
                )
                .await?;
            }
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = started {
            return Err(self.fail_call(call, user_id, e).await);
        }
        let detail = json!({"operation": operation_id, "accounts": accounts.len()});
        let session = self.commit_call(call, user_id, detail).await?;

        // Steps are now on record as attempting; carry them out in a task
        // that outlives this request if the client goes away.
        let this = self.clone();
        let user_id = user_id.to_owned();
        let caller = *caller;
        let results = tokio::spawn(async move {
            this.carry_out(
                &caller,
                &operation_id,
                &user_id,
                &actor,
                accounts,
                operation,
            )
            .await
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("operation task: {e}")))??;
        Ok(Rotated {
            value: results,
            session,
        })
    }

    /// Checks the gate and chooses the accounts, inside the call.
    async fn prepare_operation(
        &self,
        call: &mut CallTx,
        user_id: &str,
        selectors: Option<&[AccountSelector]>,
        operation: &Operation,
    ) -> Result<Vec<AccountRef>, ServiceError> {
        let now = call.now;
        let person = active_person(call.conn(), user_id).await?;
        let api_user = call.session.api_user.clone();
        let privileged = api_users::get(call.conn(), &api_user)
            .await?
            .is_some_and(|u| u.privileged);
        if !privileged {
            let wanted = match operation {
                Operation::SetPassword(_) => factors::Operation::Reset,
                Operation::Unlock => factors::Operation::Unlock,
            };
            let session_id = call.session.id.clone();
            let verified = call.session.verified_person.clone();
            let status = self
                .factor_status(
                    call.conn(),
                    &session_id,
                    verified.as_deref(),
                    &person,
                    wanted,
                )
                .await?;
            if status.proved.is_empty() {
                return Err(ServiceError::NotVerified);
            }
            if !status.met() {
                return Err(ServiceError::VerificationIncomplete(status.missing_names()));
            }
            // A lock set after verification (an attack through another
            // door) still stops the reset.
            if is_locked(call.conn(), &person, now).await? {
                return Err(ServiceError::UserLocked);
            }
        }
        let owned = people::accounts(call.conn(), &person.id).await?;
        let chosen = select_accounts(&owned, selectors)?;
        if chosen.is_empty() {
            return Err(ServiceError::NoAccounts);
        }
        if let Operation::SetPassword(password) = operation {
            let policy = self
                .policy_for(call.conn(), &person.id, Some(&chosen))
                .await?;
            let violations = policy.check(password.expose_secret());
            if !violations.is_empty() {
                return Err(ServiceError::PasswordPolicy(
                    violations.iter().map(ToString::to_string).collect(),
                ));
            }
        }
        Ok(chosen)
    }

    async fn carry_out(
        &self,
        caller: &Caller,
        operation_id: &str,
        user_id: &str,
        actor: &str,
        accounts: Vec<AccountRef>,
        operation: Operation,
    ) -> Result<Vec<AccountResult>, ServiceError> {
        let mut results = Vec::with_capacity(accounts.len());
        let (success_event, failure_event) = operation.events();
        let count = accounts.len();
        let mut notice_accounts = Vec::with_capacity(count);
        for (index, account) in accounts.into_iter().enumerate() {
            let (outcome, changed_in) = self.apply(&account, &operation).await;
            let now = self.now();
            let (ok, error, message, was_locked) = match &outcome {
                Ok(unlocked) => (true, None, None, *unlocked),
                Err(e) => {
                    // The full text goes to the log only; the caller, the
                    // event and the portal get the public message.
                    tracing::warn!(user_id, target = %account.target, account = %account.account, error = %e, "{} failed on an account", operation.action());
                    (
                        false,
                        Some(e.code().to_owned()),
                        Some(e.public_message()),
                        None,
                    )
                }
            };
            let result = AccountResult {
                account: account.account.clone(),
                target: account.target.clone(),
                ok,
                error,
                message,
                was_locked,
            };
            let mut tx = match changed_in {
                Some(tx) => tx,
                None => self.store().begin().await?,
            };
            operations::step_finished(
                &mut tx,
                operation_id,
                &account.target,
                &account.account,
                result.error.as_deref(),
                now,
            )
            .await?;
            let detail = json!({
                "operation": operation_id,
                "target": account.target,
                "account": account.account,
                "error": result.error,
                "message": result.message,
                "was_locked": result.was_locked,
                "outcome": step_outcome(&outcome, self.commits_with_record(&account.target)),
            });
            let event = EventRouter::event(
                if ok { success_event } else { failure_event },
                Some(user_id),
                actor,
                detail.clone(),
                now,
            );
            self.events().emit(&mut tx, &event).await?;
            let step_action = format!("{}.account", operation.action());
            let outcome_code = result.error.clone().unwrap_or_else(|| "ok".to_owned());
            let audit_detail = json!({"operation": operation_id, "target": account.target, "account": account.account, "ip": caller.ip.to_string(), "door": caller.door.as_str()});
            append_audit(
                &mut tx,
                actor,
                &step_action,
                user_id,
                &outcome_code,
                audit_detail,
                now,
            )
            .await?;
            notice_accounts.push(NoticeAccount {
                target: account.target.clone(),
                account: account.account.clone(),
                ok,
                unknown: false,
            });
            if index + 1 == count {
                operations::finish(&mut tx, operation_id, now).await?;
                // The person (and, for a privileged one, the
                // administrators) hear of it with the operation's last
                // step, committed together.
                let kind = operation.notice_kind();
                if self.settings().notices.may_send(kind)
                    && let Some(person) = people::get(&mut tx, user_id).await?
                {
                    let happened = Happened {
                        kind,
                        door: caller.door.as_str(),
                        at: now,
                        accounts: std::mem::take(&mut notice_accounts),
                        locked_until: None,
                    };
                    self.queue_notice(&mut tx, &person, happened).await?;
                }
            }
            commit(tx).await?;
            results.push(result);
        }
        Ok(results)
    }

    /// Carries out `operation` on one account. On the local target the
    /// change is made in the returned transaction, left uncommitted so that
    /// the step's record commits with it (a crash then loses both, and the
    /// outcome is never unknown); on every other target the target is
    /// called and no transaction is returned.
    async fn apply(
        &self,
        account: &AccountRef,
        operation: &Operation,
    ) -> (Result<Option<bool>, TargetError>, Option<Tx<'static>>) {
        let Some(local) = self
            .targets()
            .get(&account.target)
            .and_then(|t| t.as_local())
        else {
            return (self.call_target(account, operation).await, None);
        };
        match self
            .within_time_limit(self.apply_locally(local, account, operation))
            .await
        {
            Ok((outcome, tx)) => (Ok(outcome), Some(tx)),
            Err(e) => (Err(e), None),
        }
    }

    async fn apply_locally(
        &self,
        local: &LocalTarget,
        account: &AccountRef,
        operation: &Operation,
    ) -> Result<(Option<bool>, Tx<'static>), TargetError> {
        let unavailable = |e: touchtone_store::StoreError| TargetError::Unavailable(e.to_string());
        let hash = match operation {
            Operation::SetPassword(password) => Some(local.prepare_password(password).await?),
            Operation::Unlock => None,
        };
        let mut tx = self.store().begin().await.map_err(unavailable)?;
        let outcome = match hash {
            Some(hash) => {
                local
                    .set_password_in(
                        &mut tx,
                        &account.account,
                        &hash,
                        self.reset_options(),
                        self.now(),
                    )
                    .await?;
                None
            }
            None => {
                Some(local.unlock_in(&mut tx, &account.account).await? == UnlockOutcome::Unlocked)
            }
        };
        Ok((outcome, tx))
    }

    /// Whether a change on the target named `target` commits with its
    /// record, so that a crash never leaves its outcome unknown.
    pub(crate) fn commits_with_record(&self, target: &str) -> bool {
        self.targets()
            .get(target)
            .is_some_and(|t| t.as_local().is_some())
    }

    /// One target call under the service's overall time limit. For
    /// unlocks, returns whether the account had been locked.
    async fn call_target(
        &self,
        account: &AccountRef,
        operation: &Operation,
    ) -> Result<Option<bool>, TargetError> {
        let Some(target) = self.targets().get(&account.target) else {
            return Err(TargetError::UnknownTarget);
        };
        self.within_time_limit(async {
            match operation {
                Operation::SetPassword(password) => target
                    .set_password(&account.account, password, self.reset_options())
                    .await
                    .map(|()| None),
                Operation::Unlock => target
                    .unlock(&account.account)
                    .await
                    .map(|outcome| Some(outcome == UnlockOutcome::Unlocked)),
            }
        })
        .await
    }

    /// `work` on a target, under the service's overall time limit.
    async fn within_time_limit<T>(
        &self,
        work: impl Future<Output = Result<T, TargetError>>,
    ) -> Result<T, TargetError> {
        tokio::time::timeout(self.settings().target_call_timeout, work)
            .await
            .unwrap_or(Err(TargetError::Timeout))
    }

    fn reset_options(&self) -> ResetOptions {
        ResetOptions {
            must_change: self.settings().must_change_after_reset,
        }
    }
}

/// Whether a step took effect, for consumers of its event: `done`,
/// `not_done`, or `unknown` when a target that is not the local one timed
/// out (it may have made the change after all).
fn step_outcome(
    outcome: &Result<Option<bool>, TargetError>,
    commits_with_record: bool,
) -> &'static str {
    match outcome {
        Ok(_) => OUTCOME_DONE,
        Err(TargetError::Timeout) if !commits_with_record => OUTCOME_UNKNOWN,
        Err(_) => OUTCOME_NOT_DONE,
    }
}

/// The `outcome` of a step's event: it took effect.
pub(crate) const OUTCOME_DONE: &str = "done";
/// The `outcome` of a step's event: it did not take effect.
pub(crate) const OUTCOME_NOT_DONE: &str = "not_done";
/// The `outcome` of a step's event: whether it took effect is unknown (the
/// service stopped, or the target timed out, while it was under way).
pub(crate) const OUTCOME_UNKNOWN: &str = "unknown";

/// The accounts named by `selectors` (all when `None`); a selector that
/// names no account of the user, or more than one, is an error.
fn select_accounts(
    owned: &[AccountRef],
    selectors: Option<&[AccountSelector]>,
) -> Result<Vec<AccountRef>, ServiceError> {
    let Some(selectors) = selectors else {
        return Ok(owned.to_vec());
    };
    let mut chosen: Vec<AccountRef> = Vec::new();
    for s in selectors {
        let matching: Vec<&AccountRef> = owned
            .iter()
            .filter(|a| a.account == s.account && s.target.as_ref().is_none_or(|t| *t == a.target))
            .collect();
        let label = match &s.target {
            Some(t) => format!("{} on {t}", s.account),
            None => s.account.clone(),
        };
        match matching.as_slice() {
            [] => return Err(ServiceError::UnknownAccount(label)),
            [one] => {
                if !chosen.contains(one) {
                    chosen.push((*one).clone());
                }
            }
            _ => {
                return Err(ServiceError::BadRequest(format!(
                    "account {label} is on several targets; name the target"
                )));
            }
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(target: &str, account: &str) -> AccountRef {
        AccountRef {
            target: target.into(),
            account: account.into(),
        }
    }

    #[test]
    fn selectors_pick_accounts_and_refuse_unknown_or_ambiguous_ones() {
        let owned = vec![
            acct("local", "jsmith"),
            acct("hr", "jsmith"),
            acct("hr", "j.smith"),
        ];
        assert_eq!(select_accounts(&owned, None).unwrap().len(), 3);
        let pick = |account: &str, target: Option<&str>| AccountSelector {
            account: account.into(),
            target: target.map(Into::into),
        };
        assert_eq!(
            select_accounts(&owned, Some(&[pick("j.smith", None)])).unwrap(),
            vec![acct("hr", "j.smith")]
        );
        assert_eq!(
            select_accounts(&owned, Some(&[pick("jsmith", Some("hr"))])).unwrap(),
            vec![acct("hr", "jsmith")]
        );
        assert!(matches!(
            select_accounts(&owned, Some(&[pick("jsmith", None)])),
            Err(ServiceError::BadRequest(_))
        ));
        assert!(matches!(
            select_accounts(&owned, Some(&[pick("root", None)])),
            Err(ServiceError::UnknownAccount(_))
        ));
        assert!(select_accounts(&owned, Some(&[])).unwrap().is_empty());
    }
}
