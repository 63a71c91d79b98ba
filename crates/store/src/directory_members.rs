//! The people each directory import has seen (`present`) or seen leave.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// Every member of `source` with whether the last sync found them.
pub async fn list(conn: &mut AnyConnection, source: &str) -> Result<Vec<(String, bool)>> {
    let rows = sqlx::query(
        "SELECT person_id, present FROM directory_members WHERE source = $1 ORDER BY person_id",
    )
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("person_id")?,
                r.try_get::<i64, _>("present")? != 0,
            ))
        })
        .collect()
}

/// Records whether `source` has `person_id`.
pub async fn set(
    conn: &mut AnyConnection,
    source: &str,
    person_id: &str,
    present: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO directory_members (source, person_id, present, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (source, person_id) DO UPDATE SET present = excluded.present, updated_at = excluded.updated_at",
    )
    .bind(source)
    .bind(person_id)
    .bind(i64::from(present))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether any source other than `source` still has `person_id`.
pub async fn present_elsewhere(
    conn: &mut AnyConnection,
    source: &str,
    person_id: &str,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM directory_members WHERE person_id = $1 AND source <> $2 AND present = 1",
    )
    .bind(person_id)
    .bind(source)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
