//! Challenges: the questions chosen for one caller in one session (or
//! another factor asked for, such as a TOTP code). Only answers to a
//! recorded challenge are accepted, so a client cannot pick the questions
//! it likes, and each challenge is answered once.

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: String,
    pub session_id: String,
    pub person_id: String,
    /// `"questions"`, or the other factor asked for (`"totp"`).
    pub factor: String,
    /// The questions asked (none for another factor).
    pub question_ids: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
}

pub async fn create(conn: &mut AnyConnection, challenge: &Challenge) -> Result<()> {
    let ids = serde_json::to_string(&challenge.question_ids).expect("a list of strings serialises");
    sqlx::query(
        "INSERT INTO challenges (id, session_id, person_id, question_ids, created_at, expires_at, factor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&challenge.id)
    .bind(&challenge.session_id)
    .bind(&challenge.person_id)
    .bind(ids)
    .bind(challenge.created_at)
    .bind(challenge.expires_at)
    .bind(&challenge.factor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Challenge>> {
    let row = sqlx::query(
        "SELECT id, session_id, person_id, question_ids, created_at, expires_at, completed_at, factor FROM challenges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let ids: String = r.try_get("question_ids")?;
    Ok(Some(Challenge {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        person_id: r.try_get("person_id")?,
        factor: r.try_get("factor")?,
        question_ids: serde_json::from_str(&ids)
            .map_err(|e| StoreError::Corrupt(format!("question_ids of a challenge: {e}")))?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        completed_at: r.try_get("completed_at")?,
    }))
}

/// Marks a challenge answered correctly; it cannot be used again.
pub async fn complete(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE challenges SET completed_at = $1 WHERE id = $2 AND completed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
