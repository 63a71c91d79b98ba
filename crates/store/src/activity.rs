//! Each person's activity record: every event about them (resets,
//! unlocks, failed verifications, lockouts, enrolment changes, sign-ins),
//! with when, through which door and from which number, so the person can
//! see an attack on their identity. Written in the transaction of what it
//! records.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    pub at: i64,
    /// The event type (`ET_ADMIN_RESET_SUCCESS`, …).
    pub kind: String,
    /// `api`, `ivr`, `portal`, … (empty when no door was involved).
    pub door: String,
    pub caller_number: Option<String>,
    /// The event's detail JSON.
    pub detail: String,
}

pub async fn append(
    conn: &mut AnyConnection,
    person_id: &str,
    entry: &ActivityEntry,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO activity (person_id, at, kind, door, caller_number, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(person_id)
    .bind(entry.at)
    .bind(&entry.kind)
    .bind(&entry.door)
    .bind(&entry.caller_number)
    .bind(&entry.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A person's newest `limit` entries, newest first.
pub async fn recent(
    conn: &mut AnyConnection,
    person_id: &str,
    limit: i64,
) -> Result<Vec<ActivityEntry>> {
    let rows = sqlx::query(
        "SELECT at, kind, door, caller_number, detail FROM activity WHERE person_id = $1 \
         ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(person_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActivityEntry {
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                door: r.try_get("door")?,
                caller_number: r.try_get("caller_number")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
