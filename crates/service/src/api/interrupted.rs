//! What the next start does about account steps a stopped process left
//! under way (see [`super::accounts`] for the order of writes).
//!
//! On the local target the change commits with its record, so a step still
//! `attempting` did nothing: it is recorded `failed` (`interrupted`). On
//! any other target the change may or may not have been made: the step is
//! recorded `interrupted` (`outcome_unknown`). Either way a failure event
//! says which (its `outcome` is `not_done` or `unknown`), the audit keeps
//! it, and the person is sent the operation's notice, which names the
//! systems where the outcome is unknown and tells them to try again or
//! call the helpdesk.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde_json::json;
use touchtone_store::operations::OperationRow;
use touchtone_store::{AnyConnection, operations, people};

use super::accounts::{OUTCOME_NOT_DONE, OUTCOME_UNKNOWN, events_of, notice_kind_of};
use crate::events::EventRouter;
use crate::notices::{Happened, NoticeAccount};
use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

impl Service {
    /// At start: resolves the steps a previous process left `attempting`,
    /// each reported as a failure event and audited, so that an operator
    /// learns of every step that did not complete and whether it may have
    /// taken effect. Returns how many there were.
    pub async fn recover_interrupted(&self) -> Result<usize, ServiceError> {
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        let commits_with_record = |target: &str| self.commits_with_record(target);
        let steps = operations::recover_interrupted(&mut tx, now, &commits_with_record).await?;
        let mut operations = BTreeMap::new();
        for step in &steps {
            let operation = match operations.entry(step.operation_id.as_str()) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(operation(&mut tx, &step.operation_id).await?),
            };
            let unknown = step.state == "interrupted";
            let (outcome, message) = if unknown {
                (
                    OUTCOME_UNKNOWN,
                    "the server stopped while this step was under way; whether it took effect is unknown: check the account",
                )
            } else {
                (
                    OUTCOME_NOT_DONE,
                    "the server stopped before this step took effect; nothing was changed",
                )
            };
            let detail = json!({
                "operation": step.operation_id, "target": step.target, "account": step.account,
                "error": step.error, "outcome": outcome, "message": message,
            });
            let event = EventRouter::event(
                events_of(operation.kind).1,
                Some(&operation.person_id),
                "system",
                detail.clone(),
                now,
            );
            self.events().emit(&mut tx, &event).await?;
            append_audit(
                &mut tx,
                "system",
                "operation_interrupted",
                &operation.person_id,
                step.error.as_deref().unwrap_or(outcome),
                detail,
                now,
            )
            .await?;
        }
        for operation in operations.values() {
            self.notice_of_interrupted(&mut tx, operation).await?;
        }
        commit(tx).await?;
        if !steps.is_empty() {
            tracing::warn!(
                steps = steps.len(),
                "steps were interrupted by the previous stop; failure events emitted"
            );
        }
        Ok(steps.len())
    }

    /// The notice a completed operation would have sent with its last
    /// step, now that every step is resolved: each account done, not done,
    /// or not confirmed.
    async fn notice_of_interrupted(
        &self,
        conn: &mut AnyConnection,
        operation: &OperationRow,
    ) -> Result<(), ServiceError> {
        let kind = notice_kind_of(operation.kind);
        if !self.settings().notices.may_send(kind) {
            return Ok(());
        }
        let Some(person) = people::get(conn, &operation.person_id).await? else {
            return Ok(());
        };
        let accounts = operations::steps(conn, &operation.id)
            .await?
            .into_iter()
            .map(|step| NoticeAccount {
                ok: step.state == "succeeded",
                unknown: step.state == "interrupted",
                target: step.target,
                account: step.account,
            })
            .collect();
        let happened = Happened {
            kind,
            door: &operation.door,
            at: operation.started_at,
            accounts,
            locked_until: None,
        };
        self.queue_notice(conn, &person, happened).await
    }
}

async fn operation(conn: &mut AnyConnection, id: &str) -> Result<OperationRow, ServiceError> {
    operations::get(conn, id).await?.ok_or_else(|| {
        ServiceError::Internal(format!(
            "a step names operation {id}, which is not on record"
        ))
    })
}
