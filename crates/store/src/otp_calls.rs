//! Voice-OTP calls and their status history.
//!
//! A call is inserted (status `queued`) in the transaction that accepts the
//! request, so an accepted call is on disk before the API answers. Workers
//! lease due calls with a conditional `UPDATE` (any node may place them, none
//! twice), keep their leases fresh while the call runs, and write every
//! status change with a history row. The code itself is set to NULL when the
//! call reaches a final status.

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// A call as accepted, before it is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOtpCall {
    pub id: String,
    pub api_user: String,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request's fields but the code, to tell a retried
    /// request from a different one under the same idempotency key (the
    /// code is compared directly while the call still holds it).
    pub request_digest: String,
    /// E.164.
    pub destination: String,
    /// What is dialled after the dial plan.
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub mode: String,
    pub language: String,
    pub repeats: i64,
    pub code: String,
    pub code_mask: String,
    pub callback_url: Option<String>,
    pub max_attempts: i64,
    pub expires_at: i64,
    pub now: i64,
    /// For a notification call: whom it is about and what it tells them.
    pub person_id: Option<String>,
    pub purpose: Option<String>,
}

/// A stored call, as the API reports it (the code is never read here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCall {
    pub id: String,
    pub api_user: String,
    pub destination: String,
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub mode: String,
    pub language: String,
    pub repeats: i64,
    pub code_mask: String,
    pub callback_url: Option<String>,
    pub status: String,
    pub is_final: bool,
    pub attempts: i64,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub sip_status: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub code_played: i64,
    /// JSON array of what was keyed in verify mode (lengths and results).
    pub entries: String,
}

/// A call leased for placing, with what the worker needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedCall {
    pub id: String,
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub mode: String,
    pub language: String,
    pub repeats: i64,
    pub code: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub expires_at: i64,
    /// What a notification call tells (none for OTP calls).
    pub purpose: Option<String>,
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub status: String,
    pub at: i64,
    pub detail: Option<String>,
}

/// What a finished call reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finish {
    pub sip_status: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub code_played: i64,
    pub entries: String,
}

/// Filters for [`list`]; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub api_user: Option<String>,
    pub status: Option<String>,
    pub destination: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Newest first; only calls created before this one's time.
    pub before: Option<i64>,
    pub limit: i64,
}

const CALL_COLUMNS: &str = "id, api_user, destination, dial_string, caller_id, mode, language, repeats, code_mask, callback_url, \
     status, is_final, attempts, expires_at, created_at, updated_at, sip_status, ring_ms, talk_ms, code_played, entries";

/// Serialises the rate-limit checks of concurrent accepts: on SQLite it
/// takes the write lock at once; on PostgreSQL a transaction-scoped
/// advisory lock, so two nodes cannot both admit a call the limit forbids.
pub async fn lock_for_limits(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "SQLite" {
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *conn)
            .await?;
    } else {
        // An arbitrary constant: the key of the OTP accept lock.
        sqlx::query("SELECT pg_advisory_xact_lock(7366)")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert(conn: &mut AnyConnection, call: &NewOtpCall) -> Result<()> {
    sqlx::query(
        "INSERT INTO otp_calls (id, api_user, idempotency_key, request_digest, destination, dial_string, caller_id, mode, \
         language, repeats, code, code_mask, callback_url, status, max_attempts, next_attempt_at, expires_at, created_at, updated_at, \
         person_id, purpose) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'queued', $14, $15, $16, $15, $15, $17, $18)",
    )
    .bind(&call.id)
    .bind(&call.api_user)
    .bind(&call.idempotency_key)
    .bind(&call.request_digest)
    .bind(&call.destination)
    .bind(&call.dial_string)
    .bind(&call.caller_id)
    .bind(&call.mode)
    .bind(&call.language)
    .bind(call.repeats)
    .bind(&call.code)
    .bind(&call.code_mask)
    .bind(&call.callback_url)
    .bind(call.max_attempts)
    .bind(call.now)
    .bind(call.expires_at)
    .bind(&call.person_id)
    .bind(&call.purpose)
    .execute(&mut *conn)
    .await?;
    append_history(conn, &call.id, "queued", call.now, None).await
}

/// The call an API user already made under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCall {
    pub id: String,
    pub request_digest: String,
    pub status: String,
    /// The code, while the call still has it.
    pub code: Option<String>,
}

pub async fn find_by_key(
    conn: &mut AnyConnection,
    api_user: &str,
    key: &str,
) -> Result<Option<KeyedCall>> {
    let row = sqlx::query(
        "SELECT id, request_digest, status, code FROM otp_calls WHERE api_user = $1 AND idempotency_key = $2",
    )
    .bind(api_user)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(KeyedCall {
            id: r.try_get("id")?,
            request_digest: r.try_get("request_digest")?,
            status: r.try_get("status")?,
            code: r.try_get("code")?,
        })
    })
    .transpose()
}

/// The person a notification call is about (none for OTP calls).
pub async fn person_of(conn: &mut AnyConnection, id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT person_id FROM otp_calls WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("person_id")?,
        None => None,
    })
}

/// Where a call's status changes are POSTed, if anywhere.
pub async fn callback_url(conn: &mut AnyConnection, id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT callback_url FROM otp_calls WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("callback_url")?,
        None => None,
    })
}

/// Whose calls a rate limit counts.
#[derive(Debug, Clone, Copy)]
pub enum CallsBy<'a> {
    /// Calls an API user asked for.
    ApiUser(&'a str),
    /// Calls to a destination (E.164), whoever asked for them.
    Destination(&'a str),
}

/// Calls accepted for `by` since `since`.
pub async fn count_since(conn: &mut AnyConnection, by: CallsBy<'_>, since: i64) -> Result<i64> {
    let (sql, value) = match by {
        CallsBy::ApiUser(name) => (
            "SELECT COUNT(*) AS n FROM otp_calls WHERE api_user = $1 AND created_at >= $2",
            name,
        ),
        CallsBy::Destination(number) => (
            "SELECT COUNT(*) AS n FROM otp_calls WHERE destination = $1 AND created_at >= $2",
            number,
        ),
    };
    let row = sqlx::query(sql)
        .bind(value)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Leases up to `limit` due queued calls until `lease_until`, moving them
/// to `dialing` and counting the attempt. A call another worker took first
/// is skipped.
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<ClaimedCall>> {
    let rows = sqlx::query(
        "SELECT id, dial_string, caller_id, mode, language, repeats, code, attempts, max_attempts, expires_at, purpose \
         FROM otp_calls WHERE status = 'queued' AND cancel_requested = 0 AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get("id")?;
        let taken = sqlx::query(
            "UPDATE otp_calls SET status = 'dialing', attempts = attempts + 1, lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'queued'",
        )
        .bind(lease_until)
        .bind(now)
        .bind(&id)
        .execute(&mut *conn)
        .await?;
        if taken.rows_affected() != 1 {
            continue;
        }
        let attempts: i64 = r.try_get("attempts")?;
        append_history(
            conn,
            &id,
            "dialing",
            now,
            Some(&format!("{{\"attempt\":{}}}", attempts + 1)),
        )
        .await?;
        claimed.push(ClaimedCall {
            code: r
                .try_get::<Option<String>, _>("code")?
                .ok_or_else(|| StoreError::Corrupt(format!("queued OTP call {id} has no code")))?,
            id,
            dial_string: r.try_get("dial_string")?,
            caller_id: r.try_get("caller_id")?,
            mode: r.try_get("mode")?,
            language: r.try_get("language")?,
            repeats: r.try_get("repeats")?,
            attempts: attempts + 1,
            max_attempts: r.try_get("max_attempts")?,
            expires_at: r.try_get("expires_at")?,
            purpose: r.try_get("purpose")?,
        });
    }
    Ok(claimed)
}

/// A non-final status change of a call in progress (`ringing`,
/// `answered`, `code-played`). Returns false when the call is already final.
pub async fn progress(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    now: i64,
    detail: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE otp_calls SET status = $1, updated_at = $2 WHERE id = $3 AND is_final = 0",
    )
    .bind(status)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        append_history(conn, id, status, now, detail).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Records why an attempt failed (`busy`, `no-answer`) and queues the call
/// again for `next_attempt_at`.
pub async fn requeue(
    conn: &mut AnyConnection,
    id: &str,
    why: &str,
    next_attempt_at: i64,
    now: i64,
    sip_status: Option<i64>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE otp_calls SET status = 'queued', next_attempt_at = $1, lease_until = 0, updated_at = $2, sip_status = $3 \
         WHERE id = $4 AND is_final = 0",
    )
    .bind(next_attempt_at)
    .bind(now)
    .bind(sip_status)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        append_history(conn, id, why, now, None).await?;
        append_history(
            conn,
            id,
            "queued",
            now,
            Some(&format!("{{\"retry_at\":{next_attempt_at}}}")),
        )
        .await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Moves a call to its final `status` and wipes its code. Returns false
/// (and changes nothing) when it was already final.
pub async fn finish(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    now: i64,
    report: &Finish,
    detail: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE otp_calls SET status = $1, is_final = 1, code = NULL, lease_until = 0, updated_at = $2, \
         sip_status = COALESCE($3, sip_status), ring_ms = COALESCE($4, ring_ms), talk_ms = COALESCE($5, talk_ms), \
         code_played = $6, entries = $7 WHERE id = $8 AND is_final = 0",
    )
    .bind(status)
    .bind(now)
    .bind(report.sip_status)
    .bind(report.ring_ms)
    .bind(report.talk_ms)
    .bind(report.code_played)
    .bind(if report.entries.is_empty() {
        "[]"
    } else {
        &report.entries
    })
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        append_history(conn, id, status, now, detail).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Extends the leases of the calls a worker is placing.
pub async fn extend_leases(conn: &mut AnyConnection, ids: &[String], until: i64) -> Result<()> {
    for id in ids {
        sqlx::query("UPDATE otp_calls SET lease_until = $1 WHERE id = $2 AND is_final = 0 AND status <> 'queued'")
            .bind(until)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Of `ids`, those whose cancellation was asked for.
pub async fn cancel_requested(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<String>> {
    let mut asked = Vec::new();
    for id in ids {
        let row = sqlx::query("SELECT cancel_requested FROM otp_calls WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = row
            && r.try_get::<i64, _>("cancel_requested")? != 0
        {
            asked.push(id.clone());
        }
    }
    Ok(asked)
}

/// Asks for a call to be cancelled; returns its status then, or `None` when
/// the API user has no such call.
pub async fn request_cancel(
    conn: &mut AnyConnection,
    id: &str,
    api_user: &str,
    now: i64,
) -> Result<Option<String>> {
    // The write comes first: on SQLite a transaction that reads and then
    // writes must upgrade its lock, which fails at once (not after the busy
    // timeout) when another writer got there in between.
    sqlx::query(
        "UPDATE otp_calls SET cancel_requested = 1, updated_at = $1 WHERE id = $2 AND api_user = $3 AND is_final = 0",
    )
    .bind(now)
    .bind(id)
    .bind(api_user)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT status FROM otp_calls WHERE id = $1 AND api_user = $2")
        .bind(id)
        .bind(api_user)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok(r.try_get("status")?)).transpose()
}

/// Calls in progress whose worker stopped renewing the lease (a crashed or
/// restarted node): they are never dialled again, since the callee may
/// have heard the code already.
pub async fn stale_in_progress(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM otp_calls WHERE is_final = 0 AND status <> 'queued' AND lease_until < $1 LIMIT 500",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// Queued calls whose code has expired.
pub async fn expired_queued(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM otp_calls WHERE status = 'queued' AND expires_at <= $1 LIMIT 500",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// The earliest time a queued call becomes due.
pub async fn next_due(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let row =
        sqlx::query("SELECT MIN(next_attempt_at) AS due FROM otp_calls WHERE status = 'queued'")
            .fetch_one(&mut *conn)
            .await?;
    Ok(row.try_get("due")?)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<OtpCall>> {
    let row = sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM otp_calls WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn history(conn: &mut AnyConnection, id: &str) -> Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT status, at, detail FROM otp_call_history WHERE call_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                status: r.try_get("status")?,
                at: r.try_get("at")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Calls matching `filter`, newest first.
pub async fn list(conn: &mut AnyConnection, filter: &ListFilter) -> Result<Vec<OtpCall>> {
    // Every filter is bound; a NULL parameter matches everything.
    let rows = sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM otp_calls WHERE ($1 IS NULL OR api_user = $1) AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR destination = $3) AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
         AND ($6 IS NULL OR created_at < $6) ORDER BY created_at DESC, id LIMIT $7"
    ))
    .bind(&filter.api_user)
    .bind(&filter.status)
    .bind(&filter.destination)
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.before)
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

async fn append_history(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    now: i64,
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO otp_call_history (call_id, seq, status, at, detail) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM otp_call_history WHERE call_id = $1), $2, $3, $4)",
    )
    .bind(id)
    .bind(status)
    .bind(now)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<OtpCall> {
    Ok(OtpCall {
        id: r.try_get("id")?,
        api_user: r.try_get("api_user")?,
        destination: r.try_get("destination")?,
        dial_string: r.try_get("dial_string")?,
        caller_id: r.try_get("caller_id")?,
        mode: r.try_get("mode")?,
        language: r.try_get("language")?,
        repeats: r.try_get("repeats")?,
        code_mask: r.try_get("code_mask")?,
        callback_url: r.try_get("callback_url")?,
        status: r.try_get("status")?,
        is_final: r.try_get::<i64, _>("is_final")? != 0,
        attempts: r.try_get("attempts")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        sip_status: r.try_get("sip_status")?,
        ring_ms: r.try_get("ring_ms")?,
        talk_ms: r.try_get("talk_ms")?,
        code_played: r.try_get("code_played")?,
        entries: r.try_get("entries")?,
    })
}
