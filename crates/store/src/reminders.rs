//! When each person was last sent a reminder e-mail. The claim is one
//! conditional write, so two nodes running the reminder pass at once
//! cannot both queue a reminder for the same person.

use sqlx::AnyConnection;

use crate::Result;

/// Records a reminder for `person_id` at `now` unless one was recorded
/// after `cutoff`; returns whether this call recorded it.
pub async fn claim(
    conn: &mut AnyConnection,
    person_id: &str,
    reason: &str,
    now: i64,
    cutoff: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO reminders (person_id, queued_at, reason) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id) DO UPDATE SET queued_at = excluded.queued_at, reason = excluded.reason \
         WHERE reminders.queued_at <= $4",
    )
    .bind(person_id)
    .bind(now)
    .bind(reason)
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When `person_id` was last sent a reminder, if ever.
pub async fn last(conn: &mut AnyConnection, person_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT queued_at FROM reminders WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}
