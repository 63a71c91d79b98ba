//! One-time PINs for enrolling by phone, and the phone enrolments they
//! open. A person has at most one PIN (a new one replaces it); only its
//! argon2id hash is stored; it is spent when the enrolment it opened is
//! stored.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// A PIN as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentPin {
    pub pin_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Sets (or replaces) a person's PIN.
pub async fn set(
    conn: &mut AnyConnection,
    person_id: &str,
    pin_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO enrolment_pins (person_id, pin_hash, created_at, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id) DO UPDATE SET pin_hash = excluded.pin_hash, created_at = excluded.created_at, \
         expires_at = excluded.expires_at, used_at = NULL",
    )
    .bind(person_id)
    .bind(pin_hash)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, person_id: &str) -> Result<Option<EnrolmentPin>> {
    let row = sqlx::query(
        "SELECT pin_hash, created_at, expires_at, used_at FROM enrolment_pins WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(EnrolmentPin {
            pin_hash: r.try_get("pin_hash")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
        })
    })
    .transpose()
}

/// Spends a person's PIN; false when it was spent already.
pub async fn spend(conn: &mut AnyConnection, person_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE enrolment_pins SET used_at = $1 WHERE person_id = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Opens a phone enrolment in a session.
pub async fn open_enrolment(
    conn: &mut AnyConnection,
    id: &str,
    session_id: &str,
    person_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO phone_enrolments (id, session_id, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(session_id)
    .bind(person_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The person of an open, unexpired enrolment of `session_id`.
pub async fn open_enrolment_person(
    conn: &mut AnyConnection,
    id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT person_id FROM phone_enrolments WHERE id = $1 AND session_id = $2 \
         AND completed_at IS NULL AND expires_at > $3",
    )
    .bind(id)
    .bind(session_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("person_id")?),
        None => None,
    })
}

/// Closes an enrolment; false when it was closed already.
pub async fn complete_enrolment(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE phone_enrolments SET completed_at = $1 WHERE id = $2 AND completed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
