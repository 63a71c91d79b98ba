//! The durable record of password syncs and unlocks.
//!
//! Each step (one account on one target) is written as `attempting` and
//! committed before the target is called, and rewritten as `succeeded` or
//! `failed` afterwards. A crash between the two leaves `attempting`, which
//! the next start turns into `interrupted`: an exact record of what may or
//! may not have happened.

use sqlx::{AnyConnection, Row};

use crate::Result;

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

pub async fn start(
    conn: &mut AnyConnection,
    id: &str,
    kind: OperationKind,
    person_id: &str,
    actor: &str,
    session_id: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO operations (id, kind, person_id, actor, session_id, started_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(person_id)
    .bind(actor)
    .bind(session_id)
    .bind(now)
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

/// Steps left `attempting` by a process that stopped mid-way: marks them
/// `interrupted` (and their operations finished) and returns them.
pub async fn recover_interrupted(conn: &mut AnyConnection, now: i64) -> Result<Vec<Step>> {
    let rows = sqlx::query(
        "SELECT operation_id, target, account, state, error FROM operation_steps WHERE state = 'attempting' ORDER BY operation_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let steps = rows.iter().map(step_from_row).collect::<Result<Vec<_>>>()?;
    sqlx::query(
        "UPDATE operation_steps SET state = 'interrupted', error = 'the server stopped while this step was under way', \
         finished_at = $1 WHERE state = 'attempting'",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
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

/// `(kind, person_id)` of an operation.
pub async fn kind_and_person(conn: &mut AnyConnection, id: &str) -> Result<(String, String)> {
    let row = sqlx::query("SELECT kind, person_id FROM operations WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("kind")?, row.try_get("person_id")?))
}
