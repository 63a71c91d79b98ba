//! Security questions and each person's enrolled answer hashes.
//!
//! Only argon2id PHC strings of the normalised, peppered answers are stored
//! here; the hashing itself happens in the service.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The most digits an answer to it may have.
    pub max_digits: i64,
}

pub async fn upsert(conn: &mut AnyConnection, question: &Question) -> Result<()> {
    sqlx::query(
        "INSERT INTO questions (id, text, max_digits) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET text = excluded.text, max_digits = excluded.max_digits",
    )
    .bind(&question.id)
    .bind(&question.text)
    .bind(question.max_digits)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Question>> {
    let row = sqlx::query("SELECT id, text, max_digits FROM questions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| question_from_row(&r)).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Question>> {
    let rows = sqlx::query("SELECT id, text, max_digits FROM questions ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(question_from_row).collect()
}

fn question_from_row(r: &sqlx::any::AnyRow) -> Result<Question> {
    Ok(Question {
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        max_digits: r.try_get("max_digits")?,
    })
}

/// Stores (or replaces) a person's answer hash for a question.
pub async fn set_answer(
    conn: &mut AnyConnection,
    person_id: &str,
    question_id: &str,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO answers (person_id, question_id, hash, enrolled_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id, question_id) DO UPDATE SET hash = excluded.hash, enrolled_at = excluded.enrolled_at",
    )
    .bind(person_id)
    .bind(question_id)
    .bind(hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The questions a person has answers for.
pub async fn enrolled(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<Question>> {
    let rows = sqlx::query(
        "SELECT q.id, q.text, q.max_digits FROM questions q JOIN answers a ON a.question_id = q.id \
         WHERE a.person_id = $1 ORDER BY q.id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(question_from_row).collect()
}

/// `(question_id, hash)` of a person's enrolled answers.
pub async fn answer_hashes(
    conn: &mut AnyConnection,
    person_id: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT question_id, hash FROM answers WHERE person_id = $1 ORDER BY question_id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("question_id")?, r.try_get("hash")?)))
        .collect()
}
