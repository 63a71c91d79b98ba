//! Verification failures and intruder locks of people.
//!
//! Failures are rows, so the rolling window is a `COUNT` that every node
//! agrees on; a lock is one row per person.

use sqlx::{AnyConnection, Row};
use touchtone_core::lockout::LockState;

use crate::Result;

/// Records one failed verification of `person_id` through `door` (`api`,
/// `ivr`, …) in `session_id`.
pub async fn record_failure(
    conn: &mut AnyConnection,
    person_id: &str,
    session_id: &str,
    door: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO verification_failures (person_id, session_id, door, at) VALUES ($1, $2, $3, $4)")
        .bind(person_id)
        .bind(session_id)
        .bind(door)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Failures of a person at or after `since`.
pub async fn failures_since(conn: &mut AnyConnection, person_id: &str, since: i64) -> Result<u32> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM verification_failures WHERE person_id = $1 AND at >= $2",
    )
    .bind(person_id)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX))
}

/// Failures of a person within one session at or after `since`.
pub async fn session_failures(
    conn: &mut AnyConnection,
    person_id: &str,
    session_id: &str,
    since: i64,
) -> Result<u32> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM verification_failures WHERE person_id = $1 AND session_id = $2 AND at >= $3",
    )
    .bind(person_id)
    .bind(session_id)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX))
}

pub async fn get_lock(conn: &mut AnyConnection, person_id: &str) -> Result<Option<LockState>> {
    let row = sqlx::query("SELECT locked_at, locked_until FROM person_locks WHERE person_id = $1")
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(LockState {
            locked_at: r.try_get("locked_at")?,
            locked_until: r.try_get("locked_until")?,
        })
    })
    .transpose()
}

pub async fn set_lock(conn: &mut AnyConnection, person_id: &str, lock: LockState) -> Result<()> {
    sqlx::query(
        "INSERT INTO person_locks (person_id, locked_at, locked_until) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id) DO UPDATE SET locked_at = excluded.locked_at, locked_until = excluded.locked_until",
    )
    .bind(person_id)
    .bind(lock.locked_at)
    .bind(lock.locked_until)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a person's lock. Returns whether there was one.
pub async fn clear_lock(conn: &mut AnyConnection, person_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM person_locks WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks the person's row until the transaction ends, so that concurrent
/// verifications of one person (on any node) count failures one after the
/// other and the limit cannot be overrun by racing guesses.
pub async fn serialize_person(conn: &mut AnyConnection, person_id: &str) -> Result<()> {
    sqlx::query("UPDATE people SET failures_cleared_at = failures_cleared_at WHERE id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
