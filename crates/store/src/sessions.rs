//! Remote API sessions and their one-time tokens.
//!
//! A session is created by `Login` with its first token. Each later call
//! consumes the presented token with one conditional `UPDATE` (so two
//! nodes, or two racing requests, can never both succeed) and receives the
//! next. A session's idle time is the age of its newest token, so no
//! session row is rewritten per call. Only token digests are stored.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub api_user: String,
    pub client_ip: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    /// The person verified by answers in this session, if any.
    pub verified_person: Option<String>,
    /// The number a built-in IVR session's call came from.
    pub calling_number: Option<String>,
}

/// What became of a presented token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The token was live and is now spent.
    Live(Session),
    /// The token had already been spent: someone replayed it.
    Replayed { session_id: String },
    /// The token belongs to a session that has ended or timed out.
    Expired { session_id: String },
    /// No such token was ever issued.
    Unknown,
}

const SESSION_COLUMNS: &str =
    "id, api_user, client_ip, created_at, expires_at, ended_at, verified_person, calling_number";

fn session_from_row(r: &sqlx::any::AnyRow) -> Result<Session> {
    Ok(Session {
        id: r.try_get("id")?,
        api_user: r.try_get("api_user")?,
        client_ip: r.try_get("client_ip")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        ended_at: r.try_get("ended_at")?,
        verified_person: r.try_get("verified_person")?,
        calling_number: r.try_get("calling_number")?,
    })
}

/// Creates a session with its first token.
pub async fn create(
    conn: &mut AnyConnection,
    session: &Session,
    first_token_digest: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_sessions (id, api_user, client_ip, created_at, expires_at, calling_number) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&session.id)
    .bind(&session.api_user)
    .bind(&session.client_ip)
    .bind(session.created_at)
    .bind(session.expires_at)
    .bind(&session.calling_number)
    .execute(&mut *conn)
    .await?;
    issue(conn, &session.id, first_token_digest, session.created_at).await
}

/// Issues a token for a session at `now`.
pub async fn issue(
    conn: &mut AnyConnection,
    session_id: &str,
    digest: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO session_tokens (digest, session_id, issued_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(session_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Spends a token if it is live: unspent, issued after `idle_cutoff`, in a
/// session that has not ended and is not past its absolute expiry.
pub async fn consume(
    conn: &mut AnyConnection,
    digest: &str,
    now: i64,
    idle_cutoff: i64,
) -> Result<Consumed> {
    let spent = sqlx::query(
        "UPDATE session_tokens SET consumed_at = $1 WHERE digest = $2 AND consumed_at IS NULL AND session_id IN \
         (SELECT id FROM api_sessions WHERE ended_at IS NULL AND expires_at > $1) AND issued_at > $3 \
         RETURNING session_id",
    )
    .bind(now)
    .bind(digest)
    .bind(idle_cutoff)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = spent {
        let session_id: String = row.try_get("session_id")?;
        let session = get(conn, &session_id).await?.ok_or_else(|| {
            crate::StoreError::Corrupt("a token refers to a missing session".into())
        })?;
        return Ok(Consumed::Live(session));
    }
    let row = sqlx::query("SELECT session_id, consumed_at FROM session_tokens WHERE digest = $1")
        .bind(digest)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        None => Consumed::Unknown,
        Some(r) => {
            let session_id: String = r.try_get("session_id")?;
            let consumed_at: Option<i64> = r.try_get("consumed_at")?;
            if consumed_at.is_some() {
                Consumed::Replayed { session_id }
            } else {
                Consumed::Expired { session_id }
            }
        }
    })
}

/// Checks, without spending it, whether a token is live; returns its
/// session. Used before slow work (hashing) that must not hold a lock.
pub async fn peek(
    conn: &mut AnyConnection,
    digest: &str,
    now: i64,
    idle_cutoff: i64,
) -> Result<Option<Session>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM api_sessions WHERE ended_at IS NULL AND expires_at > $1 \
         AND id = (SELECT session_id FROM session_tokens WHERE digest = $3 AND consumed_at IS NULL AND issued_at > $2)"
    ))
    .bind(now)
    .bind(idle_cutoff)
    .bind(digest)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Session>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM api_sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Ends a session (logout, replay, removal); later tokens are refused.
/// Returns whether it was still open.
pub async fn end(conn: &mut AnyConnection, id: &str, reason: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE api_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the session verified a person.
pub async fn set_verified(
    conn: &mut AnyConnection,
    id: &str,
    person_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE api_sessions SET verified_person = $1, verified_at = $2 WHERE id = $3")
        .bind(person_id)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The reason a session ended, if it has.
pub async fn end_reason(conn: &mut AnyConnection, id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT end_reason FROM api_sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("end_reason")?,
        None => None,
    })
}
