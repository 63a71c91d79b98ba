//! Sessions of the self-service portal: a person signed in with their own
//! password. Only the digest of the cookie's token is stored. A session
//! ends when the person signs out, when it has been idle too long, or at
//! its absolute lifetime; `authenticated_at` is when the password was last
//! given (sign-in or re-authentication), which changes to answers and
//! phones require to be recent.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub person_id: String,
    pub client_ip: String,
    /// The form token of this session (random, compared in constant time
    /// by the service).
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub authenticated_at: i64,
    /// The phone proof the sign-in still waits for (the second factor).
    pub second_factor: Option<String>,
}

pub async fn create(conn: &mut AnyConnection, digest: &str, session: &PortalSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO portal_sessions (digest, person_id, client_ip, csrf, created_at, last_seen_at, authenticated_at, second_factor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(digest)
    .bind(&session.person_id)
    .bind(&session.client_ip)
    .bind(&session.csrf)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.authenticated_at)
    .bind(&session.second_factor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The live session with this token digest, seen now: one statement that
/// checks the idle cutoff and the lifetime and moves `last_seen_at`.
pub async fn touch(
    conn: &mut AnyConnection,
    digest: &str,
    now: i64,
    idle_cutoff: i64,
    created_after: i64,
) -> Result<Option<PortalSession>> {
    let row = sqlx::query(
        "UPDATE portal_sessions SET last_seen_at = $1 WHERE digest = $2 AND ended_at IS NULL \
         AND last_seen_at > $3 AND created_at > $4 \
         RETURNING person_id, client_ip, csrf, created_at, last_seen_at, authenticated_at, second_factor",
    )
    .bind(now)
    .bind(digest)
    .bind(idle_cutoff)
    .bind(created_after)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(PortalSession {
            person_id: r.try_get("person_id")?,
            client_ip: r.try_get("client_ip")?,
            csrf: r.try_get("csrf")?,
            created_at: r.try_get("created_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            authenticated_at: r.try_get("authenticated_at")?,
            second_factor: r.try_get("second_factor")?,
        })
    })
    .transpose()
}

/// The sign-in waiting for proof `proof_id` is complete; returns whether
/// a session was waiting for it.
pub async fn second_factor_done(
    conn: &mut AnyConnection,
    proof_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE portal_sessions SET second_factor = NULL, authenticated_at = $1, last_seen_at = $1 \
         WHERE second_factor = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(proof_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends the sign-in that waited for proof `proof_id` (the call failed).
pub async fn end_waiting_for(conn: &mut AnyConnection, proof_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE portal_sessions SET ended_at = $1 WHERE second_factor = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(proof_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the password was given again.
pub async fn reauthenticated(conn: &mut AnyConnection, digest: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE portal_sessions SET authenticated_at = $1 WHERE digest = $2")
        .bind(now)
        .bind(digest)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends a session; returns whether it was open.
pub async fn end(conn: &mut AnyConnection, digest: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE portal_sessions SET ended_at = $1 WHERE digest = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(digest)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every open session of a person (a locked person is signed out
/// everywhere).
pub async fn end_all_of(conn: &mut AnyConnection, person_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE portal_sessions SET ended_at = $1 WHERE person_id = $2 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
