//! Security questions (the pool, and questions people wrote for
//! themselves) and each person's enrolled answer hashes.
//!
//! Only argon2id PHC strings of the normalised, peppered answers are stored
//! here; the hashing itself happens in the service.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The fewest and the most digits an answer to it may have.
    pub min_digits: i64,
    pub max_digits: i64,
    /// `text`, `year` or `number`: how an answer is judged.
    pub kind: String,
    /// The person who wrote the question for themselves; `None` for the
    /// pool every person chooses from.
    pub owner: Option<String>,
}

const COLUMNS: &str = "q.id, q.text, q.min_digits, q.max_digits, q.kind, q.owner";

pub async fn upsert(conn: &mut AnyConnection, question: &Question) -> Result<()> {
    sqlx::query(
        "INSERT INTO questions (id, text, min_digits, max_digits, kind, owner) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET text = excluded.text, min_digits = excluded.min_digits, \
         max_digits = excluded.max_digits, kind = excluded.kind, owner = excluded.owner",
    )
    .bind(&question.id)
    .bind(&question.text)
    .bind(question.min_digits)
    .bind(question.max_digits)
    .bind(&question.kind)
    .bind(&question.owner)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Question>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questions q WHERE q.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| question_from_row(&r)).transpose()
}

/// The pool: every question that is not a person's own.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Question>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questions q WHERE q.owner IS NULL ORDER BY q.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(question_from_row).collect()
}

/// The questions a person may answer: the pool and their own.
pub async fn list_for(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<Question>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questions q WHERE q.owner IS NULL OR q.owner = $1 ORDER BY q.owner IS NOT NULL, q.id"
    ))
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(question_from_row).collect()
}

fn question_from_row(r: &sqlx::any::AnyRow) -> Result<Question> {
    Ok(Question {
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        min_digits: r.try_get("min_digits")?,
        max_digits: r.try_get("max_digits")?,
        kind: r.try_get("kind")?,
        owner: r.try_get("owner")?,
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
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questions q JOIN answers a ON a.question_id = q.id \
         WHERE a.person_id = $1 ORDER BY q.id"
    ))
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(question_from_row).collect()
}

/// `(question_id, enrolled_at)` of a person's answers.
pub async fn enrolled_at(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT question_id, enrolled_at FROM answers WHERE person_id = $1 ORDER BY question_id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("question_id")?, r.try_get("enrolled_at")?)))
        .collect()
}

/// For every person with answers: `(person_id, answers, oldest
/// enrolled_at)`, in one query.
pub async fn answer_summary(conn: &mut AnyConnection) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT person_id, COUNT(*) AS n, MIN(enrolled_at) AS oldest FROM answers GROUP BY person_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("person_id")?,
                r.try_get("n")?,
                r.try_get("oldest")?,
            ))
        })
        .collect()
}

/// Replaces all of a person's answers with `answers` (`(question_id,
/// hash)`), removing their own questions that are no longer answered.
pub async fn replace_answers(
    conn: &mut AnyConnection,
    person_id: &str,
    answers: &[(String, String)],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM answers WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    for (question_id, hash) in answers {
        set_answer(conn, person_id, question_id, hash, now).await?;
    }
    sqlx::query(
        "DELETE FROM questions WHERE owner = $1 AND id NOT IN \
         (SELECT question_id FROM answers WHERE person_id = $1)",
    )
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
