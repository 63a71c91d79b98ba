//! The event outbox: one row per (event, action), written in the same
//! transaction as the change that caused the event, and delivered at least
//! once by a worker that leases rows with a conditional `UPDATE` (so any
//! node may deliver, and a crashed node's lease simply runs out).

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: String,
    pub event_id: String,
    pub action: String,
    pub payload: String,
    pub attempts: i64,
}

pub async fn enqueue(
    conn: &mut AnyConnection,
    event_id: &str,
    action: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    insert(conn, event_id, action, payload, now, "").await?;
    Ok(())
}

/// Like [`enqueue`], but does nothing when an item for `event_id` and
/// `action` exists already (delivered or not); returns whether it queued.
/// For messages that must not repeat within a period named by the ID.
pub async fn enqueue_once(
    conn: &mut AnyConnection,
    event_id: &str,
    action: &str,
    payload: &str,
    now: i64,
) -> Result<bool> {
    insert(
        conn,
        event_id,
        action,
        payload,
        now,
        " ON CONFLICT (id) DO NOTHING",
    )
    .await
}

async fn insert(
    conn: &mut AnyConnection,
    event_id: &str,
    action: &str,
    payload: &str,
    now: i64,
    on_conflict: &str,
) -> Result<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO outbox (id, event_id, action, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5){on_conflict}"
    ))
    .bind(format!("{event_id}/{action}"))
    .bind(event_id)
    .bind(action)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Leases up to `limit` due items until `now + lease_ms`.
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<OutboxItem>> {
    let rows = sqlx::query(
        "SELECT id, event_id, action, payload, attempts FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL \
         AND next_attempt_at <= $1 AND lease_until <= $1 ORDER BY next_attempt_at, created_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let item = OutboxItem {
            id: r.try_get("id")?,
            event_id: r.try_get("event_id")?,
            action: r.try_get("action")?,
            payload: r.try_get("payload")?,
            attempts: r.try_get("attempts")?,
        };
        let leased = sqlx::query(
            "UPDATE outbox SET lease_until = $1 WHERE id = $2 AND lease_until <= $3 AND delivered_at IS NULL AND dead_at IS NULL",
        )
        .bind(now + lease_ms)
        .bind(&item.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if leased.rows_affected() == 1 {
            claimed.push(item);
        }
    }
    Ok(claimed)
}

pub async fn mark_delivered(conn: &mut AnyConnection, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records a failed attempt; the item is retried at `next_attempt_at`, or
/// never again when `give_up`.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    next_attempt_at: i64,
    give_up: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, lease_until = 0, dead_at = $3 WHERE id = $4",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(give_up.then_some(now))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `(pending, delivered, dead)` counts.
pub async fn counts(conn: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending, \
                (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL) AS delivered, \
                (SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL) AS dead",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        r.try_get("pending")?,
        r.try_get("delivered")?,
        r.try_get("dead")?,
    ))
}

/// The earliest time a pending item becomes due, if any is pending.
pub async fn next_due(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let r = sqlx::query(
        "SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END) AS due \
         FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("due")?)
}
