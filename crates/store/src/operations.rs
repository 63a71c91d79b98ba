//! The durable record of password syncs and unlocks.
//!
//! Each step (one account on one target) is written as `attempting` and
//! committed before the target is called, and rewritten as `succeeded` or
//! `failed` afterwards. A crash between the two leaves `attempting`, which
//! the next start resolves: on a target whose change commits with its
//! record (the local one) nothing was changed, so the step `failed`; on any
//! other the outcome is unknown, so the step is `interrupted`.

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    PasswordSync,
    Unlock,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::PasswordSync => "password_sync",
            OperationKind::Unlock => "unlock",
        }
    }

    pub fn parse(text: &str) -> Option<OperationKind> {
        [OperationKind::PasswordSync, OperationKind::Unlock]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub operation_id: String,
    pub target: String,
    pub account: String,
    /// `attempting`, `succeeded`, `failed` or `interrupted`.
    pub state: String,
    pub error: Option<String>,
}

/// An operation as it starts.
#[derive(Debug, Clone, Copy)]
pub struct NewOperation<'a> {
    pub id: &'a str,
    pub kind: OperationKind,
    pub person_id: &'a str,
    /// The API user (or `@ivr`, `@portal`) that asked for it.
    pub actor: &'a str,
    /// The door it came through (`api`, `ivr`, `portal`).
    pub door: &'a str,
    pub session_id: Option<&'a str>,
    pub started_at: i64,
}

pub async fn start(conn: &mut AnyConnection, operation: NewOperation<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO operations (id, kind, person_id, actor, door, session_id, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(operation.id)
    .bind(operation.kind.as_str())
    .bind(operation.person_id)
    .bind(operation.actor)
    .bind(operation.door)
    .bind(operation.session_id)
    .bind(operation.started_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn step_attempting(
    conn: &mut AnyConnection,
    operation_id: &str,
    target: &str,
    account: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO operation_steps (operation_id, target, account, state, started_at) VALUES ($1, $2, $3, 'attempting', $4)",
    )
    .bind(operation_id)
    .bind(target)
    .bind(account)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn step_finished(
    conn: &mut AnyConnection,
    operation_id: &str,
    target: &str,
    account: &str,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    let state = if error.is_none() {
        "succeeded"
    } else {
        "failed"
    };
    sqlx::query(
        "UPDATE operation_steps SET state = $1, error = $2, finished_at = $3 WHERE operation_id = $4 AND target = $5 AND account = $6",
    )
    .bind(state)
    .bind(error)
    .bind(now)
    .bind(operation_id)
    .bind(target)
    .bind(account)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn finish(conn: &mut AnyConnection, operation_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE operations SET finished_at = $1 WHERE id = $2")
        .bind(now)
        .bind(operation_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn steps(conn: &mut AnyConnection, operation_id: &str) -> Result<Vec<Step>> {
    let rows = sqlx::query(
        "SELECT operation_id, target, account, state, error FROM operation_steps WHERE operation_id = $1 ORDER BY target, account",
    )
    .bind(operation_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(step_from_row).collect()
}

/// The error recorded on a step that a stop left unfinished on a target
/// whose change commits with its record: nothing was changed.
pub const NOT_CHANGED: &str = "interrupted";

/// The error recorded on a step that a stop left unfinished on a target
/// that may or may not have made the change.
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";

/// Steps left `attempting` by a process that stopped mid-way: those on a
/// target for which `commits_with_record` holds become `failed`
/// ([`NOT_CHANGED`]), the others `interrupted` ([`OUTCOME_UNKNOWN`]); their
/// operations are marked finished. Returns them as they now stand.
pub async fn recover_interrupted(
    conn: &mut AnyConnection,
    now: i64,
    commits_with_record: &dyn Fn(&str) -> bool,
) -> Result<Vec<Step>> {
    let rows = sqlx::query(
        "SELECT operation_id, target, account, state, error FROM operation_steps WHERE state = 'attempting' ORDER BY operation_id, target, account",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut steps = rows.iter().map(step_from_row).collect::<Result<Vec<_>>>()?;
    for step in &mut steps {
        let (state, error) = if commits_with_record(&step.target) {
            ("failed", NOT_CHANGED)
        } else {
            ("interrupted", OUTCOME_UNKNOWN)
        };
        sqlx::query(
            "UPDATE operation_steps SET state = $1, error = $2, finished_at = $3 \
             WHERE operation_id = $4 AND target = $5 AND account = $6 AND state = 'attempting'",
        )
        .bind(state)
        .bind(error)
        .bind(now)
        .bind(&step.operation_id)
        .bind(&step.target)
        .bind(&step.account)
        .execute(&mut *conn)
        .await?;
        state.clone_into(&mut step.state);
        step.error = Some(error.to_owned());
    }
    sqlx::query("UPDATE operations SET finished_at = $1 WHERE finished_at IS NULL")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(steps)
}

fn step_from_row(r: &sqlx::any::AnyRow) -> Result<Step> {
    Ok(Step {
        operation_id: r.try_get("operation_id")?,
        target: r.try_get("target")?,
        account: r.try_get("account")?,
        state: r.try_get("state")?,
        error: r.try_get("error")?,
    })
}

/// What an operation was, without its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    pub id: String,
    pub kind: OperationKind,
    pub person_id: String,
    pub actor: String,
    pub door: String,
    pub started_at: i64,
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<OperationRow>> {
    let row = sqlx::query(
        "SELECT id, kind, person_id, actor, door, started_at FROM operations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let kind: String = r.try_get("kind")?;
        Ok(OperationRow {
            id: r.try_get("id")?,
            kind: OperationKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("operation kind {kind:?}")))?,
            person_id: r.try_get("person_id")?,
            actor: r.try_get("actor")?,
            door: r.try_get("door")?,
            started_at: r.try_get("started_at")?,
        })
    })
    .transpose()
}
