//! Numbers being proved in the portal: the code the person was shown, the
//! voice-OTP call that asks for it, and how it ended. The code is set to
//! NULL when the proof ends (or expires), as the OTP call's own is.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneVerification {
    pub id: String,
    pub person_id: String,
    /// E.164.
    pub number: String,
    /// While the proof is open.
    pub code: Option<String>,
    pub call_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub finished_at: Option<i64>,
    /// `verified`, or the call's final status, or `expired`.
    pub outcome: Option<String>,
    /// What proving the number is for.
    pub purpose: ProofPurpose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofPurpose {
    /// Adding the number to the person's registered ones.
    Register,
    /// The second step of a sign-in.
    SignIn,
}

impl ProofPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ProofPurpose::Register => "register",
            ProofPurpose::SignIn => "sign_in",
        }
    }

    fn parse(s: &str) -> ProofPurpose {
        if s == "sign_in" {
            ProofPurpose::SignIn
        } else {
            ProofPurpose::Register
        }
    }
}

const COLUMNS: &str =
    "id, person_id, number, code, call_id, created_at, expires_at, finished_at, outcome, purpose";

pub async fn create(conn: &mut AnyConnection, v: &PhoneVerification) -> Result<()> {
    sqlx::query(
        "INSERT INTO phone_verifications (id, person_id, number, code, created_at, expires_at, purpose) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&v.id)
    .bind(&v.person_id)
    .bind(&v.number)
    .bind(&v.code)
    .bind(v.created_at)
    .bind(v.expires_at)
    .bind(v.purpose.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The proof `id` of `person_id` (another person's is not found).
pub async fn get(
    conn: &mut AnyConnection,
    person_id: &str,
    id: &str,
) -> Result<Option<PhoneVerification>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM phone_verifications WHERE id = $1 AND person_id = $2"
    ))
    .bind(id)
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(PhoneVerification {
            id: r.try_get("id")?,
            person_id: r.try_get("person_id")?,
            number: r.try_get("number")?,
            code: r.try_get("code")?,
            call_id: r.try_get("call_id")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            finished_at: r.try_get("finished_at")?,
            outcome: r.try_get("outcome")?,
            purpose: ProofPurpose::parse(&r.try_get::<String, _>("purpose")?),
        })
    })
    .transpose()
}

/// Records the call placed for an open proof; false when it already had one.
pub async fn set_call(conn: &mut AnyConnection, id: &str, call_id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE phone_verifications SET call_id = $1 WHERE id = $2 AND call_id IS NULL AND finished_at IS NULL",
    )
    .bind(call_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends an open proof with `outcome`, wiping the code; false when it had
/// ended already (two checks racing finish it once).
pub async fn finish(conn: &mut AnyConnection, id: &str, outcome: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE phone_verifications SET finished_at = $1, outcome = $2, code = NULL \
         WHERE id = $3 AND finished_at IS NULL",
    )
    .bind(now)
    .bind(outcome)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Proofs a person opened since `since` (a bound on how often one may try).
pub async fn count_since(conn: &mut AnyConnection, person_id: &str, since: i64) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM phone_verifications WHERE person_id = $1 AND created_at >= $2",
    )
    .bind(person_id)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("n")?)
}
