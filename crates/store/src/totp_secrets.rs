//! People's authenticator-app (TOTP) secrets, sealed by the service
//! before they reach this table. A person has at most one confirmed
//! secret and one pending (shown in the portal, not yet confirmed).

use sqlx::{AnyConnection, Row};

use crate::Result;

/// A person's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    pub person_id: String,
    /// The confirmed secret, sealed.
    pub sealed: Option<String>,
    pub confirmed_at: Option<i64>,
    /// The newest time step whose code was accepted.
    pub last_step: i64,
    /// A secret waiting for its first code, sealed, and since when.
    pub pending: Option<String>,
    pub pending_at: Option<i64>,
}

pub async fn get(conn: &mut AnyConnection, person_id: &str) -> Result<Option<TotpRow>> {
    let row = sqlx::query(
        "SELECT person_id, sealed, confirmed_at, last_step, pending, pending_at FROM totp_secrets WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(TotpRow {
        person_id: r.try_get("person_id")?,
        sealed: r.try_get("sealed")?,
        confirmed_at: r.try_get("confirmed_at")?,
        last_step: r.try_get("last_step")?,
        pending: r.try_get("pending")?,
        pending_at: r.try_get("pending_at")?,
    }))
}

/// Whether the person has a confirmed secret.
pub async fn is_enrolled(conn: &mut AnyConnection, person_id: &str) -> Result<bool> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM totp_secrets WHERE person_id = $1 AND sealed IS NOT NULL",
    )
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Sets the pending secret (replacing an earlier pending one; a confirmed
/// secret stays until the new one is confirmed).
pub async fn set_pending(
    conn: &mut AnyConnection,
    person_id: &str,
    sealed: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO totp_secrets (person_id, pending, pending_at) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id) DO UPDATE SET pending = excluded.pending, pending_at = excluded.pending_at",
    )
    .bind(person_id)
    .bind(sealed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Makes the pending secret `pending` (as read) the confirmed one, with
/// `step` used. False when the pending secret changed meanwhile.
pub async fn confirm(
    conn: &mut AnyConnection,
    person_id: &str,
    pending: &str,
    step: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE totp_secrets SET sealed = pending, confirmed_at = $1, last_step = $2, pending = NULL, pending_at = NULL \
         WHERE person_id = $3 AND pending = $4",
    )
    .bind(now)
    .bind(step)
    .bind(person_id)
    .bind(pending)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Spends time step `step` of the confirmed secret: false when it (or a
/// later one) was spent already, so a code is accepted once only.
pub async fn spend_step(conn: &mut AnyConnection, person_id: &str, step: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE totp_secrets SET last_step = $1 WHERE person_id = $2 AND sealed IS NOT NULL AND last_step < $1",
    )
    .bind(step)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the person's secrets; returns whether there was a confirmed one.
pub async fn remove(conn: &mut AnyConnection, person_id: &str) -> Result<bool> {
    let had = is_enrolled(conn, person_id).await?;
    sqlx::query("DELETE FROM totp_secrets WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(had)
}
