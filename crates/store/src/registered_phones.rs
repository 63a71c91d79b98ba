//! Phone numbers people registered themselves (in the portal, after a
//! call to the number proved it is theirs), in E.164. Kept apart from the
//! numbers a directory import brings, which a re-sync replaces.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// `(number, verified_at)` of a person's registered numbers, oldest first.
pub async fn list(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT number, verified_at FROM registered_phones WHERE person_id = $1 ORDER BY verified_at, number",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("number")?, r.try_get("verified_at")?)))
        .collect()
}

/// Adds a number (again: keeps the first verification time).
pub async fn add(conn: &mut AnyConnection, person_id: &str, number: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO registered_phones (person_id, number, verified_at) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id, number) DO NOTHING",
    )
    .bind(person_id)
    .bind(number)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a number; returns whether it was registered.
pub async fn remove(conn: &mut AnyConnection, person_id: &str, number: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM registered_phones WHERE person_id = $1 AND number = $2")
        .bind(person_id)
        .bind(number)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
