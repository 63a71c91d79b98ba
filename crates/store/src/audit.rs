//! The append-only, hash-chained audit log.
//!
//! Row `n` stores `hash(n) = SHA-256(prev_hash ‖ canonical row n)`, with
//! `prev_hash` the hash of row `n - 1`. Editing a row breaks its hash;
//! deleting one breaks the sequence or the link. The newest `(seq, hash)`
//! is kept in `audit_head`; [`append`] takes it with one `UPDATE …
//! RETURNING`, which locks the row until commit, so appends are totally
//! ordered even across nodes, and the lock is held only from the append to
//! the commit. An operator who records the head elsewhere (`touchtone audit
//! head`) can also detect rows cut from the end.
//!
//! Nothing secret may be put in an entry: callers pass IDs and outcomes,
//! never passwords, answers or tokens.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// One entry, as the service describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Who: an API user, `ivr`, `cli`, `system`.
    pub actor: String,
    /// What: `Login`, `UserPasswordSync`, `clear_lockout`, …
    pub action: String,
    /// Whom it concerns (a person or API user ID), or empty.
    pub subject: String,
    /// `ok`, or a stable error code.
    pub outcome: String,
    /// More about it, free of secrets.
    pub detail: serde_json::Value,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first broken row and why, if any.
    pub broken: Option<(i64, String)>,
}

/// Call first in a write transaction that reads before it writes. On
/// SQLite it takes the database write lock at once (waiting up to the busy
/// timeout), so the transaction cannot fail half-way on a busy snapshot (a
/// transaction whose first statement writes gets the lock that way). On
/// PostgreSQL it does nothing: row locks are taken where rows are written,
/// and [`append`] locks the audit head late, to hold it briefly.
pub async fn lock_head(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "SQLite" {
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn row_hash(seq: i64, at: i64, entry: &AuditEntry, prev_hash: &str) -> String {
    let canonical = serde_json::to_string(&(
        seq,
        at,
        &entry.actor,
        &entry.action,
        &entry.subject,
        &entry.outcome,
        entry.detail.to_string(),
        prev_hash,
    ))
    .expect("plain values serialise");
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Appends an entry inside the caller's transaction.
pub async fn append(conn: &mut AnyConnection, entry: &AuditEntry, now: i64) -> Result<i64> {
    // Claims the next sequence number and locks the head until commit; the
    // hash returned is still the previous row's.
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let hash = row_hash(seq, now, entry, &prev_hash);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, outcome, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(now)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.subject)
    .bind(&entry.outcome)
    .bind(entry.detail.to_string())
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// Rows after `after_seq`, oldest first, at most `limit`.
pub async fn rows(conn: &mut AnyConnection, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, outcome, detail, prev_hash, hash FROM audit_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(AuditRow {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                entry: AuditEntry {
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    outcome: r.try_get("outcome")?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(format!("audit row detail: {e}")))?,
                },
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

/// Walks the whole chain and reports the first row that does not fit.
pub async fn verify(conn: &mut AnyConnection) -> Result<VerifyReport> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    let mut expected_seq = 1;
    let mut prev_hash = "0".repeat(64);
    let mut count = 0;
    let mut broken = None;
    'walk: loop {
        let batch = rows(conn, expected_seq - 1, 1000).await?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            count += 1;
            if row.seq != expected_seq {
                broken = Some((
                    expected_seq,
                    format!("row {expected_seq} is missing (next is {})", row.seq),
                ));
                break 'walk;
            }
            if row.prev_hash != prev_hash {
                broken = Some((
                    row.seq,
                    "its link to the previous row does not match".into(),
                ));
                break 'walk;
            }
            if row_hash(row.seq, row.at, &row.entry, &row.prev_hash) != row.hash {
                broken = Some((
                    row.seq,
                    "its content does not match its hash (edited)".into(),
                ));
                break 'walk;
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
    }
    if broken.is_none() && (expected_seq - 1 != head_seq || prev_hash != head_hash && head_seq > 0)
    {
        broken = Some((
            expected_seq,
            format!(
                "the log ends at row {} but its head says {head_seq}",
                expected_seq - 1
            ),
        ));
    }
    Ok(VerifyReport {
        rows: count,
        head_seq,
        head_hash,
        broken,
    })
}
