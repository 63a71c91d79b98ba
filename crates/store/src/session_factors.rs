//! The factors a session (an API or IVR session) proved for a person:
//! what the verification policy reads before a reset or an unlock.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// Records that `session_id` proved `factor` for `person_id`.
pub async fn record(
    conn: &mut AnyConnection,
    session_id: &str,
    person_id: &str,
    factor: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO session_factors (session_id, person_id, factor, verified_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (session_id, person_id, factor) DO NOTHING",
    )
    .bind(session_id)
    .bind(person_id)
    .bind(factor)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The factors `session_id` proved for `person_id`.
pub async fn proved(
    conn: &mut AnyConnection,
    session_id: &str,
    person_id: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT factor FROM session_factors WHERE session_id = $1 AND person_id = $2 ORDER BY factor",
    )
    .bind(session_id)
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("factor")?)).collect()
}
